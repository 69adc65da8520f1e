/**
 * An agent's registration: writes its {@link AgentRecord} under its id, rewrites it every
 * refresh period (and whenever asked, e.g. when in-flight work changes) so that it outlives
 * the bucket's TTL only while the process is alive, and deletes it on deregister. The
 * lifecycle is a typed event stream, not just log lines.
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from '../../common/log.ts';
import { AGENT_RECORD_FORMAT, isValidAgentId } from '../../common/registry/agent-record.ts';
import type { AgentRecord } from '../../common/registry/agent-record.ts';
import { EventStream } from './event-stream.ts';

/**
 * Refreshes per TTL. 3: the default 15 s TTL gives a 5 s refresh, so two consecutive
 * refreshes can fail before the entry expires.
 */
export const REFRESHES_PER_TTL = 3;

/** A lifecycle event of a {@link Registration}. */
export type RegistryEvent =
  | { readonly type: 'registered'; readonly record: AgentRecord }
  | { readonly type: 'refreshed'; readonly record: AgentRecord }
  | { readonly type: 'refresh-failed'; readonly error: Error }
  | { readonly type: 'deregistered' };

/** The parts of the record the agent supplies at each write (the rest is filled in). */
export type AgentSnapshot = Omit<AgentRecord, 'format' | 'agentId' | 'startedAt' | 'updatedAt'>;

/** Options of {@link createRegistration}. */
export interface RegistrationOptions {
  /** The registry bucket (see openAgentsBucket). */
  readonly kv: KV;
  /** The KV key; must satisfy isValidAgentId. */
  readonly agentId: string;
  /** Called at each write for the current state (in-flight count changes over time). */
  readonly snapshot: () => AgentSnapshot;
  /** @default the bucket's TTL / {@link REFRESHES_PER_TTL} */
  readonly refreshMs?: number;
  readonly log: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A registration; nothing is written until {@link Registration.start}. */
export interface Registration {
  /** Lifecycle events from now on (subscribe before start to see `registered`). */
  events(): AsyncIterableIterator<RegistryEvent>;
  /** Writes the first record (throws if that fails) and starts the refresh timer. */
  start(): Promise<AgentRecord>;
  /** Rewrites the record now (coalesced with a write already queued); failures become `refresh-failed` events. */
  refresh(): Promise<void>;
  /** Stops refreshing and deletes the entry; later refreshes are no-ops. */
  deregister(): Promise<void>;
}

/** Creates a registration for one agent. Throws RangeError for an invalid agent id. */
export function createRegistration(opts: RegistrationOptions): Registration {
  if (!isValidAgentId(opts.agentId)) throw new RangeError(`invalid agent id '${opts.agentId}'`);
  const now = opts.now ?? (() => new Date());
  const stream = new EventStream<RegistryEvent>();
  const startedAt = now().toISOString();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let queued: Promise<void> | undefined;
  // Every write goes through one chain, so a refresh can never land after the delete.
  let chain: Promise<unknown> = Promise.resolve();

  const write = async (): Promise<AgentRecord> => {
    const record: AgentRecord = { format: AGENT_RECORD_FORMAT, agentId: opts.agentId, ...opts.snapshot(), startedAt, updatedAt: now().toISOString() };
    await opts.kv.put(opts.agentId, JSON.stringify(record));
    return record;
  };
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const p = chain.then(task);
    chain = p.catch(() => {});
    return p;
  };

  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    queued ??= enqueue(async () => {
      queued = undefined;
      if (stopped) return;
      try {
        stream.push({ type: 'refreshed', record: await write() });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        opts.log.warn('registry refresh failed', { agentId: opts.agentId, reason: error.message });
        stream.push({ type: 'refresh-failed', error });
      }
    });
    return queued;
  };

  return {
    events: () => stream.subscribe(),
    async start() {
      const record = await enqueue(write);
      const { ttl: ttlMs, bucket } = await opts.kv.status();
      const refreshMs = opts.refreshMs ?? Math.max(1, Math.floor(ttlMs / REFRESHES_PER_TTL));
      if (ttlMs > 0 && refreshMs >= ttlMs) opts.log.warn('registry refresh period is not shorter than the bucket TTL: the entry will flap', { refreshMs, ttlMs });
      timer = setInterval(() => void refresh(), refreshMs);
      timer.unref();
      opts.log.info('registered', { agentId: opts.agentId, bucket, ttlMs, refreshMs });
      stream.push({ type: 'registered', record });
      return record;
    },
    refresh,
    async deregister() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await enqueue(() => opts.kv.delete(opts.agentId));
      opts.log.info('deregistered', { agentId: opts.agentId });
      stream.push({ type: 'deregistered' });
      stream.close();
    },
  };
}
