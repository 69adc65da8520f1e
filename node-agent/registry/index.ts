/** The agent registry in NATS KV: records, the bucket, registration and listing. */
export { AGENT_RECORD_FORMAT, MAX_AGENT_ID_LENGTH, isValidAgentId, parseAgentRecord } from '../../common/registry/agent-record.ts';
export type { AgentRecord } from '../../common/registry/agent-record.ts';
export { DEFAULT_AGENTS_BUCKET, DEFAULT_REGISTRY_TTL_MS, isValidBucketName, listAgents, listAgentsByStream, openAgentsBucket } from '../../common/registry/bucket.ts';
export type { AgentListing, AgentsBucketOptions } from '../../common/registry/bucket.ts';
export { REFRESHES_PER_TTL, createRegistration } from './registration.ts';
export type { AgentSnapshot, Registration, RegistrationOptions, RegistryEvent } from './registration.ts';
export { EventStream, MAX_QUEUED_EVENTS } from './event-stream.ts';
