// Paraphrase-remask with an external HTTP paraphraser on the real stack (docs/paraphrase.md):
// a local HTTP server is the paraphraser. A sweep through it completes with every event stored
// (Trajectory."paraphraseEvents", view trajectory_paraphrase_events); a sweep whose paraphraser
// starts answering garbage after the clean run (so the trajectory was already stored) fails its
// work unit with PARAPHRASE_FAILED and the reason, and leaves no trajectory and no cell behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arithCanonical } from '../../node-agent/paraphrase/rules.ts';
import type { Cluster } from './cluster.ts';
import { startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

/** Events of one arith-cot clean run with every: 2 (after steps 1, 3, …, 37). */
const CLEAN_EVENTS = 19;

function spec(name: string, url: string, count: number): string {
  return [
    `name: ${name}`,
    'models:',
    `  - {name: arith-cot, sampler: {paraphrase: {every: 2, remask: 0.3, paraphraser: '${url}', timeout_ms: 20000}}}`,
    `dataset: {generator: arith, seed: 7, count: ${count}}`,
    'grid:',
    '  positions: [{every: 9, of: cot}]',
    '  steps: [0.5]',
    '  kinds: [replace]',
    'options: {window: 1}',
    '',
  ].join('\n');
}

describe('paraphrase-remask sweeps with an HTTP paraphraser', { timeout: 900_000 }, () => {
  let c: Cluster;
  let server: Server;
  let base = '';
  let flakyCalls = 0;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        const { text, mask } = JSON.parse(body) as { text: string; mask: string };
        if (req.url === '/flaky' && ++flakyCalls > CLEAN_EVENTS) res.writeHead(200, { 'content-type': 'text/plain' }).end('I cannot help with that.');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: arithCanonical.paraphrase(text, 0, mask) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    c = await startCluster('paraphrase');
    await Promise.all([c.startAgent('agent-a'), c.startWorker()]);
  });
  after(async () => {
    await c?.close();
    server?.closeAllConnections();
    server?.close();
  });

  const finished = async (name: string) => {
    try {
      await until(`sweep ${name} to finish`, async () => ['completed', 'partial', 'failed'].includes((await sweepState(c, name)).status), 600_000, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await unfinishedUnits(c, name)}\nworker:\n${c.workerLog().slice(-3000)}`, { cause: err });
    }
  };

  it('stores every event of a sweep whose paraphraser is an endpoint', async () => {
    const r = await c.cli(['launch', c.writeSpec('para-ok', spec('para-ok', `${base}/ok`, 2)), '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, r.stderr);
    await finished('para-ok');
    const st = await sweepState(c, 'para-ok');
    assert.equal(st.done, 2, await unfinishedUnits(c, 'para-ok'));
    const rows = (await c.db.sql.query<{ n: string; paraphraser: string; steps: number[] }>(
      `SELECT count(*) AS n, min(paraphraser) AS paraphraser, array_agg(DISTINCT step ORDER BY step) AS steps FROM trajectory_paraphrase_events WHERE sweep_id = 'para-ok'`)).rows[0]!;
    assert.equal(Number(rows.n), 2 * CLEAN_EVENTS);
    assert.equal(rows.paraphraser, `${base}/ok`);
    assert.deepEqual(rows.steps, Array.from({ length: CLEAN_EVENTS }, (_, k) => 2 * k + 1));
    const opts = (await c.db.sql.query<{ o: { paraphrase: { every: number; paraphraser: string } } }>(`SELECT "samplerOptions" AS o FROM "Trajectory" WHERE "sweepId" = 'para-ok' LIMIT 1`)).rows[0]!.o;
    assert.equal(opts.paraphrase.every, 2);
  });

  it('fails the work unit with PARAPHRASE_FAILED and its reason when the paraphraser answers garbage, with nothing half-written', async () => {
    const r = await c.cli(['launch', c.writeSpec('para-bad', spec('para-bad', `${base}/flaky`, 1)), '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, r.stderr);
    await finished('para-bad');
    assert.ok(flakyCalls > CLEAN_EVENTS, `the clean run's ${CLEAN_EVENTS} calls succeeded and a branch's failed (${flakyCalls} calls)`);
    const units = (await c.db.sql.query<{ status: string; error: string }>(`SELECT status, error FROM "WorkUnit" WHERE "sweepId" = 'para-bad'`)).rows;
    assert.equal(units.length, 1);
    assert.equal(units[0]!.status, 'failed');
    assert.match(units[0]!.error, /paraphraser http:\/\/127\.0\.0\.1:\d+\/flaky returned text the model's tokenizer cannot represent/);
    const left = (await c.db.sql.query<{ t: string; cells: string }>(`SELECT (SELECT count(*) FROM "Trajectory" WHERE "sweepId" = 'para-bad') AS t, (SELECT count(*) FROM "Cell" WHERE "sweepId" = 'para-bad') AS cells`)).rows[0]!;
    assert.deepEqual({ t: Number(left.t), cells: Number(left.cells) }, { t: 0, cells: 0 });
  });
});
