import type { PlatformSession } from '../platform';

/** What the middleware puts in `res.locals.viafoura` for a page. */
export interface ViafouraLocals {
  /** The whole `<script id="viafoura-platform">` tag, escaped, ready to output unescaped in a template. */
  embedTag: string;
  /** The embed script's URL (the `embedSrc` option). */
  src: string;
  /** The platform user id, for a logged-in reader; null otherwise. */
  uid: string | null;
  /** The platform session, for a logged-in reader; null otherwise. */
  sid: string | null;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The embed tag (docs/platform-protocol.md#embed-tag): data-uid/data-sid only for a logged-in reader. */
export function embedTagHtml(src: string, platform: PlatformSession | null): string {
  const ids = platform ? ` data-uid="${escapeHtml(platform.userId)}" data-sid="${escapeHtml(platform.session)}"` : '';
  return `<script id="viafoura-platform" src="${escapeHtml(src)}"${ids} async></script>`;
}

/** The locals of one page: the tag, and the ids a template may want on their own. */
export function viafouraLocals(src: string, platform: PlatformSession | null): ViafouraLocals {
  return { embedTag: embedTagHtml(src, platform), src, uid: platform?.userId ?? null, sid: platform?.session ?? null };
}
