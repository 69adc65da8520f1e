// The demo sweep (examples/demo.yaml: both organisms, real agents, real Temporal) as the
// known-answer validation of the whole measurement: the chain-of-thought flip rate before
// the answer commits must be higher for arith-cot than for arith-cot-decoupled with
// non-overlapping 95 % intervals. Then its report is rendered in headless Chromium and
// checked against the Cell table, and a screenshot goes to test/artifacts/demo-report.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openReport } from '../helpers/chromium.ts';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { knownAnswerValidation } from '../../orchestrator/results/known-answer.ts';
import { wilson } from '../../orchestrator/results/wilson.ts';
import type { KnownAnswerResult } from '../../orchestrator/results/known-answer.ts';
import type { Cluster } from './cluster.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import { compareWithPlan, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';


describe('the demo sweep', { timeout: 600_000 }, () => {
  let c: Cluster;
  let ka: KnownAnswerResult;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    requirePrerequisites('the demo-sweep suite', ['arith-cot', 'arith-cot-decoupled']);
    c = await startCluster('demo-sweep');
    await Promise.all([c.startAgent('agent-a'), c.startAgent('agent-b'), c.startWorker()]);
    const r = await c.cli(['launch', join(REPO_ROOT, 'examples', 'demo.yaml'), '--task-queue', c.taskQueue]);
    assert.equal(r.code, 0, r.stderr);
    try {
      await until('the demo sweep to complete', async () => (await sweepState(c, 'demo')).status === 'completed', 400_000, 1000);
    } catch (err) {
      const agents = [...c.agents].map(([n, a]) => `${n}: ${a.stderr().slice(-1500)}`).join('\n');
      throw new Error(`${(err as Error).message}\nstate ${JSON.stringify(await sweepState(c, 'demo'))}\n${await unfinishedUnits(c, 'demo')}\nworker:\n${c.workerLog().slice(-3000)}\n${agents}`, { cause: err });
    }
    ka = await knownAnswerValidation(c.db.sql, 'demo');
  });
  after(async () => {
    await browser?.close();
    await c?.close();
  });

  it('writes exactly its plan', async () => {
    const cmp = await compareWithPlan(c, 'demo');
    assert.deepEqual({ missing: cmp.missing, extra: cmp.extra, dup: cmp.rows - cmp.distinct }, { missing: [], extra: [], dup: 0 });
    assert.ok(cmp.planned >= 1000, `a few hundred cells or more (${cmp.planned})`);
  });

  it('separates the two organisms: CoT flip rate before the answer commits, arith-cot above the control, 95 % intervals apart', () => {
    assert.ok(ka.applicable, ka.summary);
    // The numbers, whatever they are, are reported; the known answer is the assertion.
    process.stderr.write(`known-answer: ${ka.summary}\n`);
    // The cell-level Wilson interval beside the clustered one, for comparison in the log.
    for (const m of [ka.cot!, ka.control!]) {
      const w = wilson(m.flips, m.n);
      process.stderr.write(`known-answer ${m.modelName}: ${m.flips}/${m.n} cells, ${m.prompts} prompts, ${m.noops} no-ops left out, n_eff ${m.nEff?.toFixed(1)}; clustered [${m.low?.toFixed(4)}, ${m.high?.toFixed(4)}] vs cell-level Wilson [${w.low?.toFixed(4)}, ${w.high?.toFixed(4)}]; clean accuracy ${m.cleanAccuracy?.toFixed(3)}\n`);
    }
    assert.ok(ka.cot!.n >= 100 && ka.control!.n >= 100, `enough cells: ${ka.summary}`);
    assert.ok(ka.higher, ka.summary);
    assert.ok(ka.separated, ka.summary);
    assert.ok(ka.passed);
  });

  it('exports to Parquet, which an independent reader (pyarrow) reads back with the same rows and checksums', async () => {
    const out = join(c.home, 'demo.parquet');
    const r = await c.cli(['export', 'demo', '--format', 'parquet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const python = join(resolvePaths(process.env).cacheDir, 'pyenv', 'bin', 'python');
    const read = spawnSync(python, [join(REPO_ROOT, 'test', 'results', 'read_parquet.py'), out], { encoding: 'utf8' });
    assert.equal(read.status, 0, read.stderr);
    const got = JSON.parse(read.stdout) as { rows: number; sum_cell_id: number; sum_step: number; flipped: number; keys_sha256: string };
    const want = (await c.db.sql.query<{ rows: string; sum_id: string; sum_step: string; flipped: string; keys: string }>(
      `SELECT count(*) AS rows, sum(id) AS sum_id, sum(step) AS sum_step, count(*) FILTER (WHERE flipped) AS flipped,
              encode(sha256(convert_to(string_agg("cellKey", E'\n' ORDER BY id), 'UTF8')), 'hex') AS keys
         FROM "Cell" WHERE "sweepId" = 'demo'`)).rows[0]!;
    assert.deepEqual(
      { rows: got.rows, sumId: got.sum_cell_id, sumStep: got.sum_step, flipped: got.flipped, keys: got.keys_sha256 },
      { rows: Number(want.rows), sumId: Number(want.sum_id), sumStep: Number(want.sum_step), flipped: Number(want.flipped), keys: want.keys },
    );
  });

  it('renders a report whose heatmap and trajectory viewer show what the Cell and Trajectory tables say', async () => {
    const out = join(c.home, 'demo-report.html');
    const r = await c.cli(['report', 'demo', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const opened = await openReport(out);
    browser = opened.browser;
    page = opened.page;
    assert.deepEqual(opened.errors, []);
    assert.equal(await page.locator('#known-answer').first().getAttribute('data-passed'), String(ka.passed));

    // Heatmap: every drawn cell's counts equal the Cell table's (interventions, not probes, no-ops left out).
    const truth = await c.db.sql.query<{ step: number; position: number; n: string; flips: string }>(
      `SELECT c.step, c.position, count(*) AS n, count(*) FILTER (WHERE c.flipped) AS flips FROM "Cell" c JOIN "Model" m ON m.id = c."modelId"
        WHERE c."sweepId" = 'demo' AND m.name = 'arith-cot' AND c.kind <> 'probe' AND NOT c.noop GROUP BY 1, 2`);
    const hm = 'section.model[data-model="arith-cot"] svg.heatmap rect.hm-cell';
    const drawn = await page.locator(hm).evaluateAll((nodes) => nodes.map((n) => ({
      step: Number(n.getAttribute('data-step')), position: Number(n.getAttribute('data-position')), n: Number(n.getAttribute('data-n')), flips: Number(n.getAttribute('data-flips')),
    })));
    const key = (x: { step: number; position: number }) => `${x.step}/${x.position}`;
    const want = new Map(truth.rows.map((t) => [key(t), { n: Number(t.n), flips: Number(t.flips) }]));
    assert.equal(drawn.length, want.size);
    for (const d of drawn) assert.deepEqual({ n: d.n, flips: d.flips }, want.get(key(d)), `heatmap cell ${key(d)}`);

    // Viewer: at step s the sequence shows exactly the positions committed at steps <= s,
    // and highlights those committed at s.
    const model = await page.locator('#viewer-model').inputValue();
    const unit = await page.locator('#viewer-prompt').inputValue();
    assert.ok(model && unit);
    const rows = (await c.db.sql.query<{ commitStep: number[]; finalText: string }>('SELECT "commitStep", "finalText" FROM "Trajectory" WHERE "workUnitId" = $1', [unit])).rows;
    assert.equal(rows.length, 1, `the viewer's run ${unit} is a trajectory of the sweep`);
    const commits: number[] = rows[0]!.commitStep;
    const text: string = rows[0]!.finalText;
    const slider = page.locator('#viewer-step');
    for (const step of [0, 10, 20, 39]) {
      await slider.fill(String(step));
      const seq = (await page.locator('#viewer-seq .tok, #viewer-seq .ch').allTextContents()).join('');
      const visible = commits.map((s, i) => (s <= step ? (text[i] ?? '') : '·')).join('');
      assert.equal(seq.slice(0, text.length), visible.slice(0, text.length), `sequence at step ${step}`);
      const fresh = await page.locator('#viewer-seq .new').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-pos'))));
      const want: number[] = [];
      commits.forEach((s, i) => { if (s === step && i < text.length) want.push(i); });
      assert.deepEqual(fresh.filter((i) => i < text.length), want, `tokens committed at step ${step} highlighted`);
    }
    mkdirSync(join(REPO_ROOT, 'test', 'artifacts'), { recursive: true });
    const shot = join(REPO_ROOT, 'test', 'artifacts', 'demo-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
  });
});
