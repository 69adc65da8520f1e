/** All activities, created once in the worker from their dependencies. */
import type { PrismaClient } from '../db/client.ts';
import type { NatsConnection } from '../nats/connect.ts';
import type { Logger } from '../log.ts';
import { createSmokeActivities } from './smoke.ts';

/** What the activities need. */
export interface ActivityDeps {
  readonly db: PrismaClient;
  readonly nats: NatsConnection;
  readonly log: Logger;
}

/** Creates every activity, bound to `deps`. */
export function createActivities(deps: ActivityDeps) {
  return { ...createSmokeActivities(deps) };
}

/** The type of all activities (for `proxyActivities` in workflow code). */
export type Activities = ReturnType<typeof createActivities>;
