import path from 'node:path';
import type { Response } from 'express';
import { Eta } from 'eta';

/** Templates and static files sit at the project root, two levels above both src/web and dist/web. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export type Render = (res: Response, view: string, data?: Record<string, unknown>, status?: number) => void;

/** Eta escapes every `<%= %>` by default. Lazy values in `res.locals` are functions (`it.csrf()`). */
export function createRenderer(viewsDir = path.join(PROJECT_ROOT, 'views')): Render {
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true });
  memoizePaths(eta);
  return (res, view, data = {}, status = 200) => {
    const html = eta.render(view, { ...res.locals, ...data });
    // What res.type('html') sets, without looking the type up on every page.
    res.status(status).setHeader('Content-Type', 'text/html; charset=utf-8');
    res.send(html);
  };
}

/**
 * Eta resolves a template's name to its file on every render and include, joining and comparing
 * paths each time. The views are fixed (templates are cached compiled, `cache: true`), so each name
 * resolves once; a name outside the views still throws, every time.
 */
function memoizePaths(eta: Eta): void {
  const resolve = eta.resolvePath;
  const known = new Map<string, string>();
  eta.resolvePath = function resolvePath(template, options) {
    const key = `${options?.filepath ?? ''}\0${template}`;
    let file = known.get(key);
    if (file === undefined) {
      file = resolve.call(this, template, options);
      known.set(key, file);
    }
    return file;
  };
}
