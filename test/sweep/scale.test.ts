// The plan and the registration at scale: `plan` counts a 5,000,000-prompt sweep without
// holding its prompts or work units (a child process with a 1 GiB heap); `launch`'s
// registration streams 200,000 work units into PostgreSQL in batches with bounded memory
// (a child process with a 256 MiB heap, its peak RSS measured), dense ordinals 0..n-1 in plan
// order; a registration stopped half-way leaves the sweep `registering` (no workflow starts)
// and launching again completes it; a JSONL file changed after planning is refused; a failed
// workflow start puts the sweep's previous status back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { startSweepWorkflow } from '../../orchestrator/cli/commands/sweep.ts';
import { FaithsweepError } from '../../common/errors.ts';
import { collectPrompts, planSweep } from '../../orchestrator/sweep/plan.ts';
import type { SweepPlan } from '../../orchestrator/sweep/plan.ts';
import { registerSweep } from '../../orchestrator/sweep/register.ts';
import { parseSpec } from '../../orchestrator/sweep/spec.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { MODELS_DIR } from './cluster.ts';

const run = promisify(execFile);
const BIN = join(REPO_ROOT, 'bin', 'faithsweep.js');
// Probes at temperature 0 are deterministic: every listed seed runs only because the spec asks (plan.ts seedCopies).
const TINY_GRID = 'grid: {positions: [0], steps: [0], kinds: [probe]}\noptions: {copied_seeds: run}\n';

describe('plan and launch at scale', { timeout: 300_000 }, () => {
  let home: string;
  let t: TestDatabase;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'faithsweep-scale-'));
    t = await freshDatabase('scale');
  });
  after(async () => {
    await t?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  function spec(name: string, yaml: string): string {
    const path = join(home, `${name}.yaml`);
    writeFileSync(path, yaml);
    return path;
  }

  async function plan(path: string, yaml: string): Promise<SweepPlan> {
    return planSweep(parseSpec(yaml, path), { specPath: path, modelsDir: MODELS_DIR });
  }

  /** The sweep's work units (its spec has `seeds` 0..seeds-1) and status. */
  async function units(sweepId: string, models: number, seeds: number): Promise<{ n: number; distinct: number; lo: number; hi: number; misplaced: number; status: string }> {
    const r = await t.sql.query<{ n: number; distinct: number; lo: number; hi: number; misplaced: number; status: string }>(
      `SELECT count(*)::int AS n, count(DISTINCT w.ordinal)::int AS distinct, min(w.ordinal) AS lo, max(w.ordinal) AS hi,
              -- ordinals in plan order: prompt-major, then model, then seed
              (count(*) FILTER (WHERE w.ordinal <> (p.idx * $2 + w."modelIndex") * $3 + w.seed))::int AS misplaced,
              (SELECT status FROM "Sweep" WHERE id = $1) AS status
         FROM "WorkUnit" w JOIN "Prompt" p ON p.id = w."promptId" WHERE w."sweepId" = $1`, [sweepId, models, seeds]);
    return r.rows[0]!;
  }

  it('plans 5,000,000 prompts x 2 models x 4 seeds (positions all, steps all, three kinds) with a 1 GiB heap, in seconds', async () => {
    const path = spec('five-million', [
      'name: five-million',
      'models: [arith-cot, arith-cot-decoupled]',
      'dataset: {generator: arith, seed: 1, count: 5000000}',
      'seeds: [0, 1, 2, 3]',
      'grid: {positions: [all], steps: [all], kinds: [replace, remask, probe]}', '',
    ].join('\n'));
    const t0 = Date.now();
    const r = await run(process.execPath, ['--max-old-space-size=1024', BIN, 'plan', path, '--json'], { cwd: REPO_ROOT, timeout: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    const p = JSON.parse(r.stdout) as { prompts: number; workUnits: number; cells: number; cellsExact: boolean; cellsPerModel: { cellsPerUnit: number }[]; examples: { text: string }[] };
    // Per unit: 40 positions x 40 steps x 2 (replace, remask) + 40 probes = 3240.
    assert.deepEqual({ prompts: p.prompts, units: p.workUnits, perUnit: p.cellsPerModel.map((c) => c.cellsPerUnit), cells: p.cells, exact: p.cellsExact },
      { prompts: 5_000_000, units: 40_000_000, perUnit: [3240, 3240], cells: 40_000_000 * 3240, exact: true });
    assert.match(p.examples[0]!.text, /^\d{4}\+\d{4}=$/, 'the first prompt, rendered');
    assert.ok(seconds < 30, `plan took ${seconds} s`);
  });

  it('registers 200,000 work units in batches with bounded memory: dense ordinals in plan order, then status planned', async () => {
    const path = spec('scale-200k', `name: scale-200k\nmodels: [arith-cot, arith-cot-decoupled]\ndataset: {generator: arith, seed: 2, count: 50000}\nseeds: [0, 1]\n${TINY_GRID}`);
    const r = await run(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', join(REPO_ROOT, 'test', 'sweep', 'register-child.ts'), path, t.url], { cwd: REPO_ROOT, timeout: 120_000 });
    const out = JSON.parse(r.stdout) as { workUnits: number; created: boolean; planSeconds: number; registerSeconds: number; maxRssMiB: number };
    process.stderr.write(`registration of 200,000 work units: ${JSON.stringify(out)}\n`);
    assert.deepEqual({ units: out.workUnits, created: out.created }, { units: 200_000, created: true });
    assert.deepEqual(await units('scale-200k', 2, 2), { n: 200_000, distinct: 200_000, lo: 0, hi: 199_999, misplaced: 0, status: 'planned' });
    // tsx and the pg client alone take about 150 MiB; the sweep's rows must not add to it.
    assert.ok(out.maxRssMiB < 400, `peak RSS ${out.maxRssMiB} MiB`);
  });

  it('a registration stopped half-way leaves the sweep registering (no workflow starts); launching again completes it, then changes nothing', async () => {
    const yaml = `name: resumable\nmodels: [arith-cot, arith-cot-decoupled]\ndataset: {generator: arith, seed: 3, count: 300}\nseeds: [0, 1, 2]\n${TINY_GRID}`;
    const path = spec('resumable', yaml);
    const p = await plan(path, yaml);
    assert.equal(p.workUnits, 1800);
    await assert.rejects(registerSweep(t.sql, p, {
      batchUnits: 300,
      onProgress: (done) => {
        if (done >= 600) throw new Error('crash');
      },
    }), /crash/);
    assert.deepEqual(await units('resumable', 2, 3), { n: 600, distinct: 600, lo: 0, hi: 599, misplaced: 0, status: 'registering' });
    // Neither launch nor resume starts a workflow for it (refused before Temporal is asked).
    await assert.rejects(startSweepWorkflow({} as Client, 'resumable', 'q', undefined, t.url), (err: unknown) => err instanceof FaithsweepError && err.code === 'BAD_ARGS' && /not fully registered/.test(err.message));

    const again = await registerSweep(t.sql, p, { batchUnits: 300 });
    assert.deepEqual(again, { sweepId: 'resumable', created: false, resumed: true, workUnits: 1800 });
    assert.deepEqual(await units('resumable', 2, 3), { n: 1800, distinct: 1800, lo: 0, hi: 1799, misplaced: 0, status: 'planned' });
    // The rows are the plan's prompts, as collectPrompts lists them.
    const rows = (await t.sql.query<{ id: string; text: string; goldAnswer: string; renderedText: string; promptIds: number[]; meta: unknown }>(
      `SELECT DISTINCT p.id, p.text, p."goldAnswer", p."renderedText", p."promptIds", p.meta, p.idx FROM "Prompt" p JOIN "WorkUnit" w ON w."promptId" = p.id WHERE w."sweepId" = 'resumable' ORDER BY p.idx`)).rows;
    const planned = [...new Map(collectPrompts(p).flat().map((x) => [x.id, x])).values()].sort((a, b) => a.idx - b.idx);
    assert.deepEqual(rows.map((x) => [x.id, x.text, x.goldAnswer, x.renderedText, x.promptIds, x.meta]), planned.map((x) => [x.id, x.text, x.gold, x.renderedText, [...x.promptIds], x.meta]));

    assert.deepEqual(await registerSweep(t.sql, p), { sweepId: 'resumable', created: false, resumed: false, workUnits: 1800 });
    const changed = await plan(path, yaml.replace('seeds: [0, 1, 2]', 'seeds: [0, 1]'));
    await assert.rejects(registerSweep(t.sql, changed), /already exists with a different spec: spec\.seeds\[2\]: 2 → absent$/);
    // The window alone differs: the hint says resume --window applies it.
    const rewindowed = await plan(path, yaml.replace('options: {copied_seeds: run}', 'options: {copied_seeds: run, window: 3}'));
    await assert.rejects(registerSweep(t.sql, rewindowed), (err: unknown) => err instanceof FaithsweepError && /different spec: spec\.options\.window: \d+ → 3$/.test(err.message) && /resume resumable --window N/.test(err.hint ?? ''));
    // The window and something else: resume --window would drop the other change, so it is not offered.
    const both = await plan(path, yaml.replace('options: {copied_seeds: run}', 'options: {copied_seeds: run, window: 3}').replace('seeds: [0, 1, 2]', 'seeds: [0, 1]'));
    await assert.rejects(registerSweep(t.sql, both), (err: unknown) => err instanceof FaithsweepError && /different spec: /.test(err.message) && !/--window/.test(err.hint ?? ''));
  });

  it('refuses a JSONL dataset changed after it was planned, before writing anything', async () => {
    const data = join(home, 'data.jsonl');
    writeFileSync(data, '{"prompt": "0012+0034=", "answer": 46}\n{"prompt": "0001+0002=", "answer": 3}\n');
    const yaml = `name: changed\nmodels: [arith-cot]\ndataset: {jsonl: data.jsonl}\n${TINY_GRID}`;
    const p = await plan(spec('changed', yaml), yaml);
    writeFileSync(data, '{"prompt": "0012+0034=", "answer": 46}\n{"prompt": "0001+0003=", "answer": 4}\n');
    await assert.rejects(registerSweep(t.sql, p), (err: unknown) => err instanceof FaithsweepError && err.code === 'BAD_SPEC' && /data\.jsonl changed since the sweep was planned/.test(err.message));
    assert.equal((await t.sql.query('SELECT 1 FROM "Sweep" WHERE id = $1', ['changed'])).rowCount, 0);
  });

  it('a workflow start that fails puts the previous status back; a workflow already running is reported as running and keeps its status', async () => {
    const yaml = `name: failstart\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 5, count: 2}\n${TINY_GRID}`;
    const p = await plan(spec('failstart', yaml), yaml);
    await registerSweep(t.sql, p);
    const status = async () => (await t.sql.query<{ status: string; finishedAt: Date | null }>('SELECT status, "finishedAt" FROM "Sweep" WHERE id = $1', ['failstart'])).rows[0];
    // The Temporal client is a stand-in: this test is about the Sweep row around a start, not Temporal.
    const failing = { workflow: { start: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) } } as unknown as Client;
    assert.deepEqual(await status(), { status: 'planned', finishedAt: null });
    await assert.rejects(startSweepWorkflow(failing, 'failstart', 'q', undefined, t.url), /UNAVAILABLE/);
    assert.deepEqual(await status(), { status: 'planned', finishedAt: null });
    // A finished sweep whose resume fails to start keeps its status and finish time.
    const finished = new Date('2026-11-30T12:00:00Z');
    await t.sql.query(`UPDATE "Sweep" SET status = 'completed', "finishedAt" = $2 WHERE id = $1`, ['failstart', finished]);
    await assert.rejects(startSweepWorkflow(failing, 'failstart', 'q', undefined, t.url), /UNAVAILABLE/);
    assert.deepEqual(await status(), { status: 'completed', finishedAt: finished });
    // A workflow already running for the sweep: the status says running, as it is.
    const running = { workflow: { start: () => Promise.reject(new WorkflowExecutionAlreadyStartedError('already started', 'sweep-failstart', 'sweepWorkflow')) } } as unknown as Client;
    assert.equal(await startSweepWorkflow(running, 'failstart', 'q', undefined, t.url), 'running');
    assert.deepEqual(await status(), { status: 'running', finishedAt: null });
    // A paused sweep launched or resumed again while its workflow runs stays paused.
    await t.sql.query(`UPDATE "Sweep" SET status = 'paused' WHERE id = $1`, ['failstart']);
    assert.equal(await startSweepWorkflow(running, 'failstart', 'q', undefined, t.url), 'running');
    assert.deepEqual(await status(), { status: 'paused', finishedAt: null });
    // A paused sweep whose workflow had ended (terminated while paused): the new workflow starts unpaused.
    const starts = { workflow: { start: () => Promise.resolve({}) } } as unknown as Client;
    assert.equal(await startSweepWorkflow(starts, 'failstart', 'q', undefined, t.url), 'started');
    assert.deepEqual(await status(), { status: 'running', finishedAt: null });
  });
});
