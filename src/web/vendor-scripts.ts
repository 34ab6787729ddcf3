import { Router } from 'express';

/**
 * The password-strength library's browser builds, served from the installed package, so the hint
 * on the forms (public/password-strength.js) scores with the very lists the server enforces
 * (src/auth/password-policy.ts). Only the register and account pages load them.
 */
const FILES: Record<string, string> = {
  'zxcvbn-core.js': require.resolve('@zxcvbn-ts/core/dist/zxcvbn-ts.js'),
  'zxcvbn-common.js': require.resolve('@zxcvbn-ts/language-common/dist/zxcvbn-ts.js'),
};

export function createVendorScripts(): Router {
  const router = Router();
  router.get('/public/vendor/:file', (req, res, next) => {
    const file = FILES[String(req.params.file)];
    if (!file) return next();
    res.sendFile(file, { maxAge: '1h', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
  return router;
}
