/**
 * What an agent publishes about itself in the registry: one JSON value per agent, keyed by
 * agent id. Readers (the orchestrator's agent selection) validate every entry they read.
 */

/** Format tag of {@link AgentRecord} values; bump on incompatible change. */
export const AGENT_RECORD_FORMAT = 'faithsweep.agent/v1';

/** Agent ids are NATS KV keys: letters, digits, `_`, `-`, `=` and inner dots; at most this long. */
export const MAX_AGENT_ID_LENGTH = 128;
const AGENT_ID = /^[A-Za-z0-9_=-]+(\.[A-Za-z0-9_=-]+)*$/;

/** One registry entry. */
export interface AgentRecord {
  readonly format: typeof AGENT_RECORD_FORMAT;
  /** Stable id of the agent process; also the KV key. */
  readonly agentId: string;
  /** `host:port` where its gRPC server listens. */
  readonly address: string;
  /** Whether the server speaks TLS. */
  readonly tls: boolean;
  /** Models loaded and ready. */
  readonly models: readonly { readonly name: string; readonly sha256: string }[];
  readonly capacity: { readonly maxConcurrentGroups: number; readonly inFlight: number; readonly maxBatch: number };
  /** Execution provider in use and a description of the device. */
  readonly device: { readonly executionProvider: string; readonly description: string };
  /** faithsweep version of the agent. */
  readonly version: string;
  /** ISO time the agent started. */
  readonly startedAt: string;
  /** ISO time of this write (the registration refreshes it periodically). */
  readonly updatedAt: string;
}

/** Whether `id` can be an agent id (a valid NATS KV key of at most {@link MAX_AGENT_ID_LENGTH} characters). */
export function isValidAgentId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_AGENT_ID_LENGTH && AGENT_ID.test(id);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/**
 * Parses a registry value; returns an error message instead of throwing, because one
 * agent writing garbage must not stop a reader from seeing the others.
 */
export function parseAgentRecord(text: string): { ok: true; record: AgentRecord } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(v)) return { ok: false, error: 'not an object' };
  if (v['format'] !== AGENT_RECORD_FORMAT) return { ok: false, error: `format is ${JSON.stringify(v['format'])}, expected '${AGENT_RECORD_FORMAT}'` };
  for (const f of ['agentId', 'address', 'version', 'startedAt', 'updatedAt']) {
    if (typeof v[f] !== 'string' || !v[f]) return { ok: false, error: `field '${f}' must be a non-empty string` };
  }
  if (typeof v['tls'] !== 'boolean') return { ok: false, error: "field 'tls' must be a boolean" };
  const models = v['models'];
  if (!Array.isArray(models) || !models.every((m) => isObject(m) && typeof m['name'] === 'string' && typeof m['sha256'] === 'string')) {
    return { ok: false, error: "field 'models' must be a list of {name, sha256}" };
  }
  const c = v['capacity'];
  if (!isObject(c) || !isCount(c['maxConcurrentGroups']) || !isCount(c['inFlight']) || !isCount(c['maxBatch'])) {
    return { ok: false, error: "field 'capacity' must hold counts maxConcurrentGroups, inFlight, maxBatch" };
  }
  const d = v['device'];
  if (!isObject(d) || typeof d['executionProvider'] !== 'string' || typeof d['description'] !== 'string') {
    return { ok: false, error: "field 'device' must hold strings executionProvider and description" };
  }
  return { ok: true, record: v as unknown as AgentRecord };
}
