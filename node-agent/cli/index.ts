/** The `faithsweep agent` process: flag parsing and start-up/shut-down of its parts. */
export { DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, DEFAULT_GRACE_MS, DEFAULT_MAX_GROUPS, DEVICES, MIN_REGISTRY_TTL_MS, generateAgentId, parseAgentOptions } from './agent-options.ts';
export type { AgentOptions, RawAgentInput } from './agent-options.ts';
export { startAgent } from './start-agent.ts';
export type { RunningAgent, StartAgentDeps } from './start-agent.ts';
