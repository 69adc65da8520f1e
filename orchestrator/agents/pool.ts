/**
 * Leasing agents for work units. The pool reads the NATS KV registry (cached briefly),
 * keeps one gRPC client per agent, counts the leases this process holds, and picks, among
 * live agents that have the model, the one with the most free slots (ties at random, so
 * load spreads). Agents that just failed a call are avoided for a while.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AgentClient } from '../../generated/proto/faithsweep/v1/agent.ts';
import { createAgentClient } from '../../common/grpc/client.ts';
import { listAgentsByStream } from '../../common/registry/bucket.ts';
import type { AgentRecord } from '../../common/registry/agent-record.ts';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';

/** How long a registry listing is reused. */
const LISTING_TTL_MS = 1000;
/** Longest a registry read may take before the previous listing is used. */
const READ_TIMEOUT_MS = 5_000;
/** Longest a lease waits for a free slot before the attempt is handed back to the retry policy. */
const LEASE_WAIT_MS = 120_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** How long an agent that failed a call is avoided. */
export const AVOID_MS = 20_000;

/** A leased agent: call `release()` exactly once when done. */
export interface Lease {
  readonly agentId: string;
  readonly address: string;
  readonly client: AgentClient;
  release(): void;
}

/** Options of {@link createAgentPool}. */
export interface AgentPoolOptions {
  readonly kv: KV;
  /** The connection and bucket name behind `kv` (the pool reads the bucket's keys from its stream). */
  readonly nc: NatsConnection;
  readonly bucket: string;
  /** The agents' shared token. */
  readonly token: string;
  /** Trust roots for TLS agents (system roots when absent). */
  readonly tlsCa?: Buffer;
  /** This worker's PEM certificate and key, for agents that require mutual TLS. */
  readonly tlsCert?: Buffer;
  readonly tlsKey?: Buffer;
  readonly log: Logger;
}

/** The pool. */
export interface AgentPool {
  /**
   * Leases a live agent that has the model (by sha256) and a free slot. Waits (polling the
   * registry) while every such agent is busy; throws AGENT_UNAVAILABLE at once when no live
   * agent has the model at all, so the activity's retry policy takes over. Stops waiting
   * when `signal` aborts.
   */
  lease(modelSha256: string, signal?: AbortSignal): Promise<Lease>;
  /** Avoid `agentId` for {@link AVOID_MS} (its call failed). */
  avoid(agentId: string): void;
  close(): void;
}

/** Creates a pool over the registry bucket `kv`. */
export function createAgentPool(opts: AgentPoolOptions): AgentPool {
  const clients = new Map<string, { address: string; client: AgentClient }>();
  const held = new Map<string, number>();
  const avoided = new Map<string, number>();
  let listing: { at: number; agents: readonly AgentRecord[] } | undefined;
  let waiters: (() => void)[] = [];

  // One registry read at a time, shared by every lease waiting for it: a read is one request
  // per agent, and dozens of work units may ask at once.
  let reading: Promise<readonly AgentRecord[]> | undefined;
  const agents = async (): Promise<readonly AgentRecord[]> => {
    if (listing && Date.now() - listing.at < LISTING_TTL_MS) return listing.agents;
    reading ??= (async () => {
      try {
        const { agents: list, invalid } = await withTimeout(listAgentsByStream(opts.nc, opts.kv, opts.bucket), READ_TIMEOUT_MS).catch((err: unknown) => {
          // A registry that does not answer: keep using what was read last, if anything.
          if (!listing) throw new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, `cannot read the agent registry: ${(err as Error).message}`, { hint: 'check NATS' });
          opts.log.warn('agent registry read failed; using the previous listing', { error: (err as Error).message });
          return { agents: listing.agents, invalid: [] };
        });
        for (const i of invalid) opts.log.warn('ignoring an invalid registry entry', { key: i.key, error: i.error });
        listing = { at: Date.now(), agents: list };
        return list;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };

  const clientFor = (a: AgentRecord): AgentClient => {
    const known = clients.get(a.agentId);
    if (known && known.address === a.address) return known.client;
    known?.client.close();
    const client = createAgentClient({ address: a.address, token: opts.token, ...(a.tls ? { tls: { ...(opts.tlsCa ? { ca: opts.tlsCa } : {}), ...(opts.tlsCert && opts.tlsKey ? { cert: opts.tlsCert, key: opts.tlsKey } : {}) } } : {}) });
    clients.set(a.agentId, { address: a.address, client });
    return client;
  };

  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  return {
    async lease(sha, signal) {
      const since = Date.now();
      for (;;) {
        if (Date.now() - since > LEASE_WAIT_MS) {
          throw new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, `every agent with model ${sha.slice(0, 12)}… stayed busy for ${LEASE_WAIT_MS / 1000} s`, { hint: 'the work unit is retried; add agents to go faster' });
        }
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('lease cancelled');
        const now = Date.now();
        const all = (await agents()).filter((a) => a.models.some((m) => m.sha256 === sha));
        if (all.length === 0) {
          throw new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, `no live agent has model ${sha.slice(0, 12)}…`, {
            hint: "start one with 'faithsweep agent --models DIR' (the sweep waits and retries)",
          });
        }
        const usable = all.filter((a) => (avoided.get(a.agentId) ?? 0) <= now);
        // If every agent is avoided, use them anyway rather than stall.
        const pool = usable.length > 0 ? usable : all;
        const free = pool
          .map((a) => ({ a, free: Math.max(1, a.capacity.maxConcurrentGroups) - (held.get(a.agentId) ?? 0), r: Math.random() }))
          .filter((x) => x.free > 0)
          .sort((x, y) => y.free - x.free || x.r - y.r);
        const pick = free[0]?.a;
        if (pick) {
          held.set(pick.agentId, (held.get(pick.agentId) ?? 0) + 1);
          let released = false;
          return {
            agentId: pick.agentId,
            address: pick.address,
            client: clientFor(pick),
            release() {
              if (released) return;
              released = true;
              held.set(pick.agentId, Math.max(0, (held.get(pick.agentId) ?? 1) - 1));
              wake();
            },
          };
        }
        // Every agent with the model is busy with this process's leases: wait for a release
        // or for the registry to change (another agent may register).
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, LISTING_TTL_MS * 2);
          waiters.push(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
    },
    avoid(agentId) {
      avoided.set(agentId, Date.now() + AVOID_MS);
      listing = undefined;
    },
    close() {
      for (const c of clients.values()) c.client.close();
      clients.clear();
      wake();
    },
  };
}
