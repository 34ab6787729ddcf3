/** The bridge core lives in src/core/; this is its entry for the platform side. */
export { createBridge, type Bridge, type BridgeDeps, type BridgeOptions, type HostUser } from '../core/bridge';
