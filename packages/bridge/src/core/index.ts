/** The bridge core (docs/architecture.md): per host session, one platform session; logouts through a durable outbox. */
export { createBridge } from './bridge';
export { liveHostSessionsOf } from './session-rows';
export { PENDING_COUNT_CAP } from './policy';
export type { Bridge, BridgeDeps, BridgeOptions, HostSessionCheck, HostUser } from './types';
