/** What platforms import: the gate middleware, the decision core, and the mode client. */
export { platformGate, type PlatformGateOptions } from './middleware.ts';
export { withPlatformGate, type FetchHandler, type GatedFetchOptions } from './fetch.ts';
export { createGate, prefersHtml, MODE_HEADER, type Decision, type GateOptions, type GateRequest, type GateState, type ModeSource } from './core.ts';
export { ModeClient, type ModeClientOptions } from './mode-client.ts';
