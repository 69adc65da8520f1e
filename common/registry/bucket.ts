/**
 * The NATS KV bucket of the agent registry. Expiry uses the bucket's `ttl` (the stream's
 * max_age) rather than per-message TTLs, which need nats-server 2.11 (we run 2.9): an entry
 * that is not rewritten within the TTL disappears.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseAgentRecord } from './agent-record.ts';
import type { AgentRecord } from './agent-record.ts';

/** Bucket name when none is configured. */
export const DEFAULT_AGENTS_BUCKET = 'faithsweep-agents';

/**
 * Entry lifetime without a refresh. 15 s: three refresh periods, so an agent survives two
 * lost refreshes (a NATS reconnect, a GC pause) yet a dead agent leaves selection quickly
 * compared with a work unit's runtime.
 */
export const DEFAULT_REGISTRY_TTL_MS = 15_000;

/** Bucket names allowed by JetStream. */
const BUCKET_NAME = /^[A-Za-z0-9_-]+$/;

/** Whether `name` can be a KV bucket name. */
export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
}

/** Options of {@link openAgentsBucket}. */
export interface AgentsBucketOptions {
  /** @default {@link DEFAULT_AGENTS_BUCKET} */
  readonly bucket?: string;
  /**
   * Entry TTL in ms, applied only when this call creates the bucket; an existing bucket
   * keeps its own (read it back with `(await kv.status()).ttl`). @default {@link DEFAULT_REGISTRY_TTL_MS}
   */
  readonly ttlMs?: number;
}

/** Opens the registry bucket, creating it (history 1, the given TTL) when missing. */
export function openAgentsBucket(nc: NatsConnection, opts: AgentsBucketOptions = {}): Promise<KV> {
  const bucket = opts.bucket ?? DEFAULT_AGENTS_BUCKET;
  if (!isValidBucketName(bucket)) throw new RangeError(`invalid KV bucket name '${bucket}': use letters, digits, '_' and '-'`);
  return new Kvm(nc).create(bucket, { history: 1, ttl: opts.ttlMs ?? DEFAULT_REGISTRY_TTL_MS });
}

/** What {@link listAgents} read. */
export interface AgentListing {
  /** Live agents, sorted by id. */
  readonly agents: readonly AgentRecord[];
  /** Entries that could not be parsed, with why (ignored for selection). */
  readonly invalid: readonly { readonly key: string; readonly error: string }[];
}

/** Reads every live registration in the bucket. */
export async function listAgents(kv: KV): Promise<AgentListing> {
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return readAgents(kv, keys);
}

/**
 * Like {@link listAgents}, but finds the keys from the bucket's stream info (one request,
 * no consumer) instead of `kv.keys()`. On nats-server 2.9 `keys()` can wait forever once
 * entries have expired by TTL (nats-server#3481), which a long-lived reader — the
 * orchestrator's agent pool — must not risk.
 */
export async function listAgentsByStream(nc: NatsConnection, kv: KV, bucket: string): Promise<AgentListing> {
  const jsm = await jetstreamManager(nc);
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return readAgents(kv, Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length)));
}

async function readAgents(kv: KV, keys: string[]): Promise<AgentListing> {
  const agents: AgentRecord[] = [];
  const invalid: { key: string; error: string }[] = [];
  for (const key of keys.sort()) {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT') continue;
    const parsed = parseAgentRecord(e.string());
    if (parsed.ok) agents.push(parsed.record);
    else invalid.push({ key, error: parsed.error });
  }
  return { agents, invalid };
}
