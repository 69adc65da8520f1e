// The first end-to-end test: a real Temporal server runs a workflow whose activity writes
// a row through the Prisma client into a real PostgreSQL and publishes on a real NATS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type pg from 'pg';
import { createActivities } from '../orchestrator/activities/index.ts';
import { createSmokeActivities } from '../orchestrator/activities/smoke.ts';
import type { AgentPool } from '../orchestrator/agents/pool.ts';
import { SMOKE_WORKFLOWS_PATH, WORKFLOWS_PATH, bundleWorkflows } from '../orchestrator/worker/create-worker.ts';
import { silentLogger } from '../common/log.ts';
import { freshDatabase } from './helpers/db.ts';
import type { TestDatabase } from './helpers/db.ts';
import { testNats } from './helpers/nats.ts';
import type { TestNats } from './helpers/nats.ts';
import { temporalEnv, uniqueTaskQueue } from './helpers/temporal.ts';

describe('the smoke pipeline', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let nats: TestNats;

  before(async () => {
    [env, database, nats] = await Promise.all([temporalEnv(), freshDatabase('smoke'), testNats()]);
  });
  after(async () => {
    await nats?.close();
    await database?.drop();
    await env?.teardown();
  });

  it('runs a workflow whose activity writes a row through Prisma and publishes on NATS', async () => {
    const taskQueue = uniqueTaskQueue('smoke');
    const subject = `${nats.prefix}.smoke`;
    const sub = nats.nc.subscribe(subject, { max: 1 });
    await nats.nc.flush();
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(SMOKE_WORKFLOWS_PATH),
      activities: createSmokeActivities({ db: database.db, nats: nats.nc, log: silentLogger }),
    });

    const result = await worker.runUntil(
      env.client.workflow.execute('smokeWorkflow', { taskQueue, workflowId: `smoke-${taskQueue}`, args: [{ name: 'smoke-e2e', subject }] }),
    );

    const messages: string[] = [];
    for await (const m of sub) messages.push(m.string());
    assert.deepEqual(messages.map((m) => JSON.parse(m)), [{ sweepId: result.sweepId, name: 'smoke-e2e' }]);

    const rows = await database.sql.query('SELECT id, name, status, spec FROM "Sweep"');
    assert.deepEqual(rows.rows, [{ id: result.sweepId, name: 'smoke-e2e', status: 'completed', spec: { smoke: true, name: 'smoke-e2e' } }]);
  });

  it('is not registered in the production worker: its workflows and activities have no smoke entry', async () => {
    // The production worker registers the exports of WORKFLOWS_PATH and createActivities' keys
    // (orchestrator/worker/create-worker.ts); a smoke entry there would write `smoke-…` Sweep rows.
    const workflows = Object.keys(await import(WORKFLOWS_PATH) as Record<string, unknown>).sort();
    assert.deepEqual(workflows, ['shardWorkflow', 'sweepWorkflow']);
    // Creating the activities only binds them (nothing is called), so pools that are never used stand in.
    const activities = Object.keys(createActivities({ db: database.db, nats: nats.nc, log: silentLogger, sql: database.sql as unknown as pg.Pool, agents: {} as AgentPool }));
    assert.ok(activities.includes('runWorkUnit') && activities.includes('finishSweep'), activities.join(', '));
    assert.deepEqual(activities.filter((a) => /smoke/i.test(a)), []);
  });
});
