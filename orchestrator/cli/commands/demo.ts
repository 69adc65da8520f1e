/**
 * `faithsweep demo`: brings the local stack up, migrates the database, and runs the
 * smoke pipeline (a workflow whose activity writes a row through Prisma and publishes on
 * NATS). It becomes the real sweep demo once the sweep orchestration exists.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { command } from '../command.ts';
import { applyMigrations, readMigrations } from '../../db/migrate.ts';
import { createDb } from '../../db/client.ts';
import { connectNats } from '../../nats/connect.ts';
import { createLogger } from '../../log.ts';
import { redact } from '../../dev/stack.ts';
import { createWorker, installTemporalRuntime } from '../../worker/create-worker.ts';
import { stackFromContext } from './stack-from-context.ts';

/** The smoke pipeline should finish in seconds; this bounds a wedged run. */
const DEMO_TIMEOUT_MS = 120_000;

export const demoCommand = command({
  name: 'demo',
  summary: 'Bring up the local stack and run the smoke pipeline end to end (Temporal → activity → Postgres + NATS)',
  details: ['The full sweep demo arrives with the sweep orchestration; until then this runs the smoke pipeline and says so.'],
  async run(ctx) {
    const t0 = Date.now();
    const log = createLogger({ json: ctx.json, write: ctx.err });
    const stack = await stackFromContext(ctx);
    ctx.err('[1/4] starting the local stack…');
    await stack.up();
    const e = stack.endpoints;

    ctx.err('[2/4] migrating the database…');
    const sql = new pg.Client({ connectionString: e.databaseUrl });
    await sql.connect();
    const db = createDb({ url: e.databaseUrl, poolSize: 2 });
    const nats = await connectNats({ url: e.natsUrl, name: 'faithsweep-demo' });
    try {
      await applyMigrations(sql, readMigrations(ctx.paths.migrationsDir), log);

      ctx.err('[3/4] bundling workflows and starting a worker…');
      installTemporalRuntime('WARN');
      const taskQueue = `demo-${randomUUID().slice(0, 8)}`;
      const subject = `faithsweep.demo.${taskQueue}`;
      const received = new Promise<string>((resolve) => {
        const sub = nats.subscribe(subject, { max: 1 });
        void (async () => {
          for await (const m of sub) resolve(m.string());
        })();
      });
      await nats.flush();
      const { worker, connection: workerConn } = await createWorker({ address: e.temporalAddress, taskQueue, deps: { db, nats, log } });

      ctx.err('[4/4] running the smoke workflow…');
      const connection = await Connection.connect({ address: e.temporalAddress });
      const client = new Client({ connection });
      const workflowId = `smoke-${taskQueue}`;
      const result = await worker.runUntil(async () => {
        const handle = await client.workflow.start('smokeWorkflow', { taskQueue, workflowId, args: [{ name: 'demo-smoke', subject }] });
        return (await Promise.race([handle.result(), timeout(DEMO_TIMEOUT_MS)])) as { sweepId: string };
      });
      const message = await Promise.race([received, timeout(10_000)]);
      const row = await sql.query<{ id: string; status: string }>('SELECT id, status FROM "Sweep" WHERE id = $1', [result.sweepId]);
      await connection.close();
      await workerConn.close();

      const summary = {
        workflowId,
        sweepRow: row.rows[0] ?? null,
        natsMessage: JSON.parse(message) as unknown,
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        temporalUi: e.temporalUiUrl ? `${e.temporalUiUrl}/namespaces/default/workflows/${workflowId}` : null,
      };
      if (ctx.json) {
        ctx.out(JSON.stringify(summary, null, 2));
      } else {
        ctx.out('');
        ctx.out('Smoke pipeline OK: a Temporal workflow ran an activity that wrote a row through Prisma and published on NATS.');
        ctx.out(`  workflow     ${workflowId}`);
        ctx.out(`  Sweep row    ${summary.sweepRow?.id} (status ${summary.sweepRow?.status})`);
        ctx.out(`  NATS         ${subject} → ${message}`);
        ctx.out(`  time         ${summary.seconds} s`);
        if (summary.temporalUi) ctx.out(`  Temporal UI  ${summary.temporalUi}`);
        ctx.out('');
        ctx.out('Note: sweeps (launch/watch/resume) are not built yet; this demo runs the smoke pipeline only.');
        ctx.out(`Next: psql "${redact(e.databaseUrl)}" -c 'SELECT * FROM "Sweep"'   ·   npx faithsweep dev status   ·   npx faithsweep dev down`);
      }
    } finally {
      await nats.close();
      await db.$disconnect();
      await sql.end();
    }
  },
});

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref());
}
