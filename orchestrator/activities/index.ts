/** All activities, created once in the worker from their dependencies. */
import type pg from 'pg';
import type { AgentPool } from '../agents/pool.ts';
import type { PrismaClient } from '../db/client.ts';
import type { NatsConnection } from '../../common/nats/connect.ts';
import type { Logger } from '../../common/log.ts';
import type { SweepActivities } from '../sweep/contract.ts';
import type { SweepActivityDeps } from './sweep.ts';
import { createSweepActivities } from './sweep.ts';
import { createSmokeActivities } from './smoke.ts';

/** What the activities need. The sweep activities need `sql` and `agents` too. */
export interface ActivityDeps {
  readonly db: PrismaClient;
  readonly nats: NatsConnection;
  readonly log: Logger;
  readonly sql?: pg.Pool;
  readonly agents?: AgentPool;
  /** Tuning of the sweep activities (tests shorten heartbeats). */
  readonly sweep?: Pick<SweepActivityDeps, 'callMs' | 'firstCallCells' | 'flushRows' | 'flushMs' | 'heartbeatMs' | 'stallMs'>;
}

/** Creates every activity, bound to `deps`. */
export function createActivities(deps: ActivityDeps): ReturnType<typeof createSmokeActivities> & Partial<SweepActivities> {
  const smoke = createSmokeActivities(deps);
  if (!deps.sql || !deps.agents) return smoke;
  return { ...smoke, ...createSweepActivities({ ...deps, ...deps.sweep, sql: deps.sql, agents: deps.agents }) };
}

/** The type of all activities (for `proxyActivities` in workflow code). */
export type Activities = ReturnType<typeof createActivities>;
