/**
 * The smoke activity: proves one workflow → activity → Postgres + NATS path works end to
 * end. It writes (idempotently) a Sweep row and publishes a message naming it.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../db/client.ts';
import type { NatsConnection } from '../../common/nats/connect.ts';
import type { Logger } from '../../common/log.ts';

/** Input of the smoke activity. */
export interface SmokeInput {
  /** Name of the Sweep row to write. */
  readonly name: string;
  /** NATS subject to publish the confirmation on. */
  readonly subject: string;
}

/** Output of the smoke activity. */
export interface SmokeResult {
  readonly sweepId: string;
  readonly subject: string;
}

/** Dependencies of the smoke activities. */
export interface SmokeDeps {
  readonly db: PrismaClient;
  readonly nats: NatsConnection;
  readonly log: Logger;
}

/** Creates the smoke activities bound to their dependencies. */
export function createSmokeActivities({ db, nats, log }: SmokeDeps) {
  return {
    /** Upserts the Sweep row, publishes `{ sweepId, name }` on `subject`, flushes. */
    async recordSmoke(input: SmokeInput): Promise<SmokeResult> {
      const sweepId = 'smoke-' + createHash('sha256').update(input.name).digest('hex').slice(0, 12);
      const spec = { smoke: true, name: input.name };
      await db.sweep.upsert({
        where: { id: sweepId },
        create: { id: sweepId, name: input.name, spec, specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'), status: 'completed', finishedAt: new Date() },
        update: { status: 'completed', finishedAt: new Date() },
      });
      nats.publish(input.subject, JSON.stringify({ sweepId, name: input.name }));
      await nats.flush();
      log.info('smoke recorded', { sweepId, subject: input.subject });
      return { sweepId, subject: input.subject };
    },
  };
}

/** The smoke activities' type, imported (as a type) by workflow code. */
export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
