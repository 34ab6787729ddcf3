/** The bundled platform emulator (docs/platform-protocol.md#the-emulator): what the rest of the project may import. */
export { createEmulatorApp, type EmulatorApp } from './emulator-app';
export { startEmulator } from './emulator-server';
export { DEMO_API_KEY, DEMO_EMULATOR_PORT, DEMO_SITE_ID, tryItLines } from './demo-credentials';
export { EMBED_CSS, EMBED_JS } from './embed-assets';
export type {
  EmulatorFaults,
  EmulatorOptions,
  EmulatorStats,
  FaultEndpoint,
  FaultKind,
  PlatformEndpoint,
  PlatformUserView,
  RecordedRequest,
  RunningEmulator,
} from './types';
export { EMULATOR_PROFILES, TOKEN_DIALECTS, isEmulatorProfile, type EmulatedGrant, type EmulatorProfile, type TokenDialect } from './profiles';
export { tokenSettingsForEmulator } from './profile-settings';
