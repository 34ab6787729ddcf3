export { createBackchannelLogoutRoutes, type BackchannelLogoutDeps, type BackchannelLogoutOptions } from './backchannel-routes';
