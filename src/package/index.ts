/**
 * The installable package's one entry (`require('vf-login-bridge')`): an Express adapter over the
 * bridge core, and the core itself for apps that wire it by hand (docs/architecture.md).
 */
export {
  createViafouraBridge,
  embedTagHtml,
  type HookRouterOptions,
  type ViafouraBridge,
  type ViafouraBridgeOptions,
  type ViafouraLocals,
} from './express-adapter';
export {
  createPlatform,
  type Bridge,
  type CreatePlatformOptions,
  type HostUser,
  type Platform,
  type PlatformOptions,
  type PlatformSession,
} from '../platform';
export { openDatabase, type Database } from '../store/database';
export { signHook } from '../hooks';
export { systemClock, type Clock } from '../clock';
export { createLogger, type Logger } from '../logger';
