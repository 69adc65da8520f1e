/**
 * A sweep worker with everything it needs: database (Prisma + a pg pool for bulk inserts),
 * NATS (progress, the agent registry) and the agent pool. Used by `faithsweep worker`, the
 * demo and the tests.
 */
import type { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAgentPool } from '../agents/pool.ts';
import { createIngestPool } from '../activities/cells.ts';
import type { AgentPool } from '../agents/pool.ts';
import { createDb } from '../db/client.ts';
import type { Logger } from '../../common/log.ts';
import { connectNats } from '../../common/nats/connect.ts';
import { openAgentsBucket } from '../../common/registry/bucket.ts';
import { DEFAULT_AGENTS_BUCKET } from '../../common/registry/bucket.ts';
import type { ActivityDeps } from '../activities/index.ts';
import { createWorker } from './create-worker.ts';

/** Options of {@link startSweepWorker}. */
export interface SweepWorkerOptions {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly temporalAddress: string;
  readonly taskQueue?: string;
  readonly token: string;
  /** Registry bucket. @default faithsweep-agents */
  readonly bucket?: string;
  readonly log: Logger;
  readonly workflowBundle?: WorkflowBundleWithSourceMap;
  /** Activity tuning (tests shorten heartbeats). */
  readonly sweep?: ActivityDeps['sweep'];
  /** Activities run at once. @default 200 */
  readonly maxConcurrentActivities?: number;
  /** TLS towards agents: trust roots, and this worker's certificate and key for mutual TLS (PEM). */
  readonly agentTls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** A started (not yet running) worker and a `close()` for its connections. */
export interface SweepWorker {
  readonly worker: Worker;
  readonly agents: AgentPool;
  close(): Promise<void>;
}

/** Connects everything and creates the worker; call `worker.run()`, then `close()`. */
export async function startSweepWorker(opts: SweepWorkerOptions): Promise<SweepWorker> {
  const db = createDb({ url: opts.databaseUrl, poolSize: 4 });
  const sql = createIngestPool(opts.databaseUrl, 8);
  const nats = await connectNats({ url: opts.natsUrl, name: 'faithsweep-worker', reconnectForever: true });
  const bucket = opts.bucket ?? DEFAULT_AGENTS_BUCKET;
  const kv = await openAgentsBucket(nats, { bucket });
  const t = opts.agentTls;
  const agents = createAgentPool({
    kv, nc: nats, bucket, token: opts.token, log: opts.log,
    ...(t?.ca ? { tlsCa: t.ca } : {}), ...(t?.cert ? { tlsCert: t.cert } : {}), ...(t?.key ? { tlsKey: t.key } : {}),
  });
  const { worker, connection } = await createWorker({
    address: opts.temporalAddress,
    ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : {}),
    deps: { db, nats, log: opts.log, sql, agents, ...(opts.sweep ? { sweep: opts.sweep } : {}) },
    maxConcurrentActivities: opts.maxConcurrentActivities ?? 200,
  });
  return {
    worker,
    agents,
    async close() {
      agents.close();
      await connection.close().catch(() => undefined);
      await nats.close().catch(() => undefined);
      await sql.end().catch(() => undefined);
      await db.$disconnect().catch(() => undefined);
    },
  };
}
