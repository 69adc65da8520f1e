/**
 * All activities of the production worker, created once from their dependencies. The smoke
 * activity (./smoke.ts) is not among them: it writes a `smoke-…` Sweep row, so only the smoke
 * check registers it (test/smoke.test.ts).
 */
import type pg from 'pg';
import type { AgentPool } from '../agents/pool.ts';
import type { PrismaClient } from '../db/client.ts';
import type { NatsConnection } from '../../common/nats/connect.ts';
import type { Logger } from '../../common/log.ts';
import type { SweepActivities } from '../sweep/contract.ts';
import type { SweepActivityDeps } from './sweep.ts';
import { createSweepActivities } from './sweep.ts';

/** What the activities need. */
export interface ActivityDeps {
  readonly db: PrismaClient;
  readonly nats: NatsConnection;
  readonly log: Logger;
  readonly sql: pg.Pool;
  readonly agents: AgentPool;
  /** Tuning of the sweep activities (tests shorten heartbeats). */
  readonly sweep?: Pick<SweepActivityDeps, 'callMs' | 'firstCallCells' | 'flushRows' | 'flushMs' | 'heartbeatMs' | 'stallMs'>;
}

/** Creates every activity, bound to `deps`. */
export function createActivities(deps: ActivityDeps): SweepActivities {
  return createSweepActivities({ ...deps, ...deps.sweep, sql: deps.sql, agents: deps.agents });
}

/** The type of all activities (for `proxyActivities` in workflow code). */
export type Activities = ReturnType<typeof createActivities>;
