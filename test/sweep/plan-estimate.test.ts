// `plan`'s time estimate is calibrated from the measured throughput of the last completed sweep
// of the plan's models (real PostgreSQL, work units with known timings), says where its figure
// comes from, and falls back to the uncalibrated default when no database answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { modelId } from '../../orchestrator/sweep/plan.ts';
import { CPU_ROWS_PER_SECOND } from '../../orchestrator/sweep/estimate.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';

const sha = (model: string): string => (JSON.parse(readFileSync(join(REPO_ROOT, 'models', model, 'model.json'), 'utf8')) as { sha256: string }).sha256;
const COT = modelId(sha('arith-cot'));
const DEC = modelId(sha('arith-cot-decoupled'));
/** examples/demo.yaml: 12 prompts x 2 models x 84 cells. */
const DEMO_CELLS = 2016;

interface Unit { model: string; start: number; end: number; cells: number; agent: string; status?: string }

describe('plan estimate calibrated from measured throughput', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('plan_estimate');
    await t.sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ($1, 'arith-cot', 'models/arith-cot', $2, '{}'), ($3, 'arith-cot-decoupled', 'models/arith-cot-decoupled', $4, '{}'), ('m-other', 'other', 'x', 'other', '{}')`,
      [COT, sha('arith-cot'), DEC, sha('arith-cot-decoupled')]);
    await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") SELECT 'p' || i, 'd', i, '1+1=', '2' FROM generate_series(0, 9) i`);
  });
  after(async () => {
    await t?.drop();
  });

  /** A sweep finished `finishedMinutesAgo` minutes ago; unit times are seconds from a base time. */
  async function sweep(name: string, status: string, finishedMinutesAgo: number, units: Unit[]): Promise<void> {
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt", "finishedAt") VALUES ($1, $1, '{"format": 1}', 'h', $2, now(), now() - make_interval(mins => $3))`, [name, status, finishedMinutesAgo]);
    for (const [i, u] of units.entries()) {
      await t.sql.query(
        `INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, status, "agentId", "doneCells", "plannedCells", "startedAt", "finishedAt", "durationMs", "updatedAt")
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $8, timestamptz '2026-11-01 00:00:00+00' + make_interval(secs => $9), timestamptz '2026-11-01 00:00:00+00' + make_interval(secs => $10), $11, now())`,
        [`${name}-${i}`, name, i, u.model, `p${i}`, u.status ?? 'done', u.agent, u.cells, u.start, u.end, (u.end - u.start) * 1000]);
    }
  }

  /** `plan --json`, and (with `human`) the human output too: each run takes a while on a loaded machine. */
  function plan(databaseUrl: string, human = true): { json: { estimate: Record<string, unknown>; cells: number }; human: string } {
    const env = { ...process.env, DATABASE_URL: databaseUrl, FAITHSWEEP_DEBUG: '' };
    const run = (...extra: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'plan', 'examples/demo.yaml', ...extra], { encoding: 'utf8', cwd: REPO_ROOT, env });
    const j = run('--json');
    assert.equal(j.status, 0, j.stderr);
    const h = human ? run() : null;
    assert.equal(h?.status ?? 0, 0, h?.stderr);
    return { json: JSON.parse(j.stdout) as { estimate: Record<string, unknown>; cells: number }, human: h?.stdout ?? '' };
  }

  it('uses the last completed sweep of the plan\'s models: its cells over its busy time, on its agents', async () => {
    // Busy time: [0, 15] (two overlapping units) and [100, 110] = 25 s; the gap (an outage, a
    // cancel and resume) does not count. 500 cells / 25 s = 20 cells/s on 2 agents.
    await sweep('measured-cot', 'completed', 10, [
      { model: COT, start: 0, end: 10, cells: 100, agent: 'a1' },
      { model: COT, start: 5, end: 15, cells: 100, agent: 'a2' },
      { model: COT, start: 100, end: 104, cells: 100, agent: 'a1' },
      { model: COT, start: 103, end: 110, cells: 200, agent: 'a2' },
      { model: COT, start: 200, end: 900, cells: 50, agent: 'a1', status: 'failed' }, // not done: not measured
    ]);
    // More recent, but of another model; and a running sweep of the plan's model: neither is used.
    await sweep('other-model', 'completed', 1, [{ model: 'm-other', start: 0, end: 1, cells: 1000, agent: 'a1' }]);
    await sweep('still-running', 'running', 0, [{ model: COT, start: 0, end: 1, cells: 1000, agent: 'a1' }]);

    const r = plan(t.url);
    const e = r.json.estimate;
    assert.equal(r.json.cells, DEMO_CELLS);
    assert.equal(e['source'], 'sweep');
    assert.equal(e['rate'], 20);
    assert.equal(e['rateUnit'], 'cells/s');
    assert.equal(e['agents'], 2);
    assert.equal(e['seconds'], Math.round(DEMO_CELLS / 20));
    assert.deepEqual({ ...(e['sweep'] as Record<string, unknown>), finishedAt: undefined }, { id: 'measured-cot', name: 'measured-cot', cells: 500, busySeconds: 25, finishedAt: undefined });
    assert.match(r.human, /^ {2}estimate: 2 min from sweep 'measured-cot' measured 20 cells\/s on 2 agents \(it ran 1 of this plan's 2 models\)$/m);
  });

  it('prefers a sweep that ran more of the plan\'s models, even an older one', async () => {
    // One agent, one island [0, 40]: 400 cells / 40 s = 10 cells/s.
    await sweep('measured-both', 'completed', 60, [
      { model: COT, start: 0, end: 20, cells: 200, agent: 'a9' },
      { model: DEC, start: 20, end: 40, cells: 200, agent: 'a9' },
    ]);
    const r = plan(t.url);
    assert.equal(r.json.estimate['source'], 'sweep');
    assert.equal(r.json.estimate['rate'], 10);
    assert.equal(r.json.estimate['seconds'], Math.round(DEMO_CELLS / 10));
    assert.match(r.human, /^ {2}estimate: 3 min from sweep 'measured-both' measured 10 cells\/s on 1 agent$/m);
  });

  it('says the estimate is the uncalibrated default when no database answers, and plans anyway', () => {
    const r = plan('postgresql://nobody@127.0.0.1:1/none');
    const e = r.json.estimate;
    assert.equal(e['source'], 'default');
    assert.equal(e['rate'], CPU_ROWS_PER_SECOND);
    assert.equal(e['uncalibratedBecause'], 'no database reachable');
    assert.equal(e['seconds'], Math.round((e['rowSteps'] as number) / CPU_ROWS_PER_SECOND));
    assert.match(r.human, /^ {2}estimate: \d+ (s|min) uncalibrated default \(\d+ forward-pass rows at 340 rows\/s on one CPU agent; an upper bound: no database reachable\)$/m);
  });

  it('falls back to the default when the database has no completed sweep of these models', async () => {
    const empty = await freshDatabase('plan_estimate_empty');
    try {
      const r = plan(empty.url, false);
      assert.equal(r.json.estimate['source'], 'default');
      assert.equal(r.json.estimate['uncalibratedBecause'], 'no completed sweep of these models measured');
    } finally {
      await empty.drop();
    }
  });
});
