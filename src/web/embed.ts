import type { RequestHandler, Response } from 'express';
import type { Bridge, PlatformSession } from 'vf-login-bridge';
import { toHostUser } from '../host-user';
import { snapshotFor } from '../store/reader-snapshot';

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
 * Loads the reader's platform session for a page. In steady state this reads nothing more (the
 * bridge row came with the session) and calls no platform; the bridge alone decides when a
 * re-login is due.
 */
export function platformForPages(bridge: Bridge, embedSrc: string): RequestHandler {
  const show = (res: Response, platform: PlatformSession | null) => {
    res.locals.platform = platform;
    res.locals.embed = embedTagFor(embedSrc, platform);
  };
  // Not async: an anonymous page view makes no promise, and keeps the anonymous embed every
  // request starts with (src/app.ts).
  return (req, res, next) => {
    if (!req.user) return next();
    // The bridge row read with the session, when it was (src/store/reader-snapshot.ts): no second read.
    const known = snapshotFor(req);
    return bridge.platformSessionFor(req.sessionID, toHostUser(req.user), known && { row: known.bridgeRow }).then((platform) => {
      show(res, platform);
      next();
    });
  };
}
