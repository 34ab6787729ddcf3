import path from 'node:path';
import type { Response } from 'express';
import { Eta } from 'eta';

/** Templates and static files sit at the project root, two levels above both src/web and dist/web. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export type Render = (res: Response, view: string, data?: Record<string, unknown>, status?: number) => void;

/** Eta escapes every `<%= %>` by default. Lazy values in `res.locals` are functions (`it.csrf()`). */
export function createRenderer(viewsDir = path.join(PROJECT_ROOT, 'views')): Render {
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true });
  return (res, view, data = {}, status = 200) => {
    const html = eta.render(view, { ...res.locals, ...data });
    res.status(status).type('html').send(html);
  };
}
