import type { RequestHandler } from 'express';
import type { Bridge, PlatformSession } from '../platform';
import { toHostUser } from '../auth/host-session';

/** What the embed tag on every page carries (docs/platform-protocol.md#embed-tag). */
export interface EmbedTag {
  src: string;
  uid: string | null;
  sid: string | null;
}

export function embedTagFor(src: string, platform: PlatformSession | null): EmbedTag {
  return { src, uid: platform?.userId ?? null, sid: platform?.session ?? null };
}

/**
 * Loads the reader's platform session for a page. In steady state this is one indexed read and
 * no platform call; the bridge alone decides when a re-login is due.
 */
export function platformForPages(bridge: Bridge, embedSrc: string): RequestHandler {
  return async (req, res, next) => {
    const platform = req.user ? await bridge.platformSessionFor(req.sessionID, toHostUser(req.user)) : null;
    res.locals.platform = platform;
    res.locals.embed = embedTagFor(embedSrc, platform);
    next();
  };
}
