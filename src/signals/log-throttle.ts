/** Moved to src/log-throttle.ts (shared by signals, the agent and the xDS server). */
export { LogThrottle } from '../log-throttle.js';
