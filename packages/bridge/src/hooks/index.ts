export { createHookRoutes, type HookDeps } from './routes';
export { signHook, verifyHookSignature, SIGNATURE_TOLERANCE_SECONDS } from './signature';
