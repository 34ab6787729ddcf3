export { createHookRoutes, type HookDeps } from './routes';
export { signHook, verifyHookSignature, SIGNATURE_TOLERANCE_SECONDS } from './signature';
export { createReplayGuard, type ReplayGuard } from './replay-guard';
export { deliverOnce, WEBHOOK_CLAIM_MS, WEBHOOK_ID_RETENTION_MS, type Delivery } from './delivery';
export {
  createWebhookSigners,
  standardWebhookHeaders,
  verifyStandardWebhook,
  webhookSecretProblem,
  WEBHOOK_ID_MAX_LENGTH,
  type WebhookCheck,
  type WebhookHeaders,
} from './standard-webhooks';
