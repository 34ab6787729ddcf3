import { Router } from 'express';
import type { DevInbox } from '../mail/dev-inbox';
import type { Render } from './render';

/** A piece of a message's plain text: words as they are, or a link to make clickable. */
export type TextPart = { text: string } | { link: string };

// Only web links become anchors: a `javascript:` or `data:` "link" in a message stays text.
const LINK = /https?:\/\/[^\s<>"']+/g;

/** Splits plain text into words and links; the view escapes both. */
export function partsOf(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    // A sentence's closing punctuation is not part of its link.
    const link = match[0].replace(/[.,;:!?)]+$/, '');
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ link });
    at = match.index + link.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/**
 * The development inbox at /dev/mail (src/mail/dev-inbox.ts): what the site would have mailed,
 * newest first, so a developer can follow a verification or reset link without a mail server.
 * Mounted only when there is such an inbox, which production never has (src/config.ts).
 */
export function createDevMailRoutes(inbox: DevInbox, render: Render): Router {
  const router = Router();
  router.get('/dev/mail', (_req, res) => {
    // The messages hold live one-time links: never for a cache, whatever comes before this route.
    res.setHeader('Cache-Control', 'no-store');
    const messages = inbox.messages().map((message) => ({
      to: message.to,
      subject: message.subject,
      at: new Date(message.at).toISOString(),
      parts: partsOf(message.text),
    }));
    render(res, 'dev-mail', { title: 'Development inbox', messages });
  });
  return router;
}
