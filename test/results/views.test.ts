// The results views (prisma/migrations/20261128000000_results_views) against values worked
// out by hand on the fixture sweep (test/results/fixture.ts). The arithmetic is in comments:
// cN are the fixture's intervention cells.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SAMPLER, FIXTURE_SWEEP, ids, insertFixtureSweep } from './fixture.ts';
import { insertCells, insertTrajectory, isNoop } from '../../orchestrator/activities/cells.ts';
import type { CellRow } from '../../orchestrator/activities/cells.ts';
import { clusterSums, clusteredInterval, wilson } from '../../orchestrator/results/wilson.ts';
import type { Cluster } from '../../orchestrator/results/wilson.ts';

const S = FIXTURE_SWEEP.name;

function close(actual: unknown, expected: number, what: string, eps = 1e-6): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < eps, `${what}: expected ${expected}, got ${String(actual)}`);
}

type Row = Record<string, unknown>;

describe('results views on the hand-computed fixture sweep', () => {
  let t: TestDatabase;
  const rows = async (sql: string, values: unknown[] = []): Promise<Row[]> => (await t.sql.query(sql, values)).rows as Row[];
  const one = async (sql: string, values: unknown[] = []): Promise<Row> => {
    const r = await rows(sql, values);
    assert.equal(r.length, 1, `exactly one row for ${sql} ${JSON.stringify(values)}`);
    return r[0]!;
  };

  before(async () => {
    t = await freshDatabase('results_views');
    await insertFixtureSweep(t.sql);
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('sw_empty', 'empty-sweep', '{}', 'h', now())`);
  });
  after(async () => {
    await t?.drop();
  });

  describe('flip_rate_by_span', () => {
    const q = `SELECT n::int, flips::int, n_noop::int, n_prompts::int, n_runs::int, clean_accuracy, flip_rate, ci_low, ci_high, mode, gen_length, total_steps, block_length, temperature, remasking FROM flip_rate_by_span WHERE sweep_name = $1 AND model_name = $2 AND kind = $3 AND span = $4 AND phase = $5`;

    it('gives arith-cot its chain-of-thought flip rate before the answer commits, no-ops left out, with the clustered interval', async () => {
      // c1 T, c2 T, c8 T, c9 F, c10 T, c12 T, c14 F: 5 of 7; c3 (a remask of a position the clean
      // run commits only at step 2, at step 1) is a no-op: left out, and counted in n_noop.
      const r = await one(q, [S, 'arith-cot', 'all', 'cot', 'pre_commit']);
      assert.equal(r['n'], 7);
      assert.equal(r['flips'], 5);
      assert.equal(r['n_noop'], 1);
      assert.equal(r['n_prompts'], 3);
      assert.equal(r['n_runs'], 3);
      close(r['clean_accuracy'], 2 / 3, 'clean accuracy of p0 ✓, p1 ✓, p2 ✗');
      close(r['flip_rate'], 5 / 7, 'rate');
      // Per prompt (flips/cells): p0 2/2, p1 2/3, p2 1/2. Residuals k_i − p·n_i = 4/7, −1/7, −3/7,
      // Σ² = 26/49; V = 3/2 · 26/49 / 7² = 0.016243; n_eff = p(1−p)/V = (10/49)/V = 12.6, capped
      // at n = 7: the Wilson interval of 5 of 7, (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
      close(r['ci_low'], 0.358934, 'ci_low');
      close(r['ci_high'], 0.917781, 'ci_high');
      // The sampler the runs used is in every row.
      assert.deepEqual([r['mode'], r['gen_length'], r['total_steps'], r['block_length'], r['temperature'], r['remasking']], ['single_block', 6, 4, 6, 0, 'low_confidence']);
    });

    it('splits arith-cot by span and phase and pools them under all', async () => {
      const expect: [string, string, number, number][] = [
        ['cot', 'post_commit', 2, 0], // c4, c13
        ['answer', 'pre_commit', 2, 2], // c5, c11
        ['answer', 'post_commit', 1, 0], // c6
        ['other', 'pre_commit', 1, 0], // c7
        ['cot', 'all', 9, 5], // c3 is a no-op
        ['all', 'pre_commit', 10, 7],
        ['all', 'post_commit', 3, 0],
        ['all', 'all', 13, 7],
      ];
      for (const [span, phase, n, flips] of expect) {
        const r = await one(q, [S, 'arith-cot', 'all', span, phase]);
        assert.deepEqual([r['n'], r['flips']], [n, flips], `${span}/${phase}`);
      }
      assert.equal((await rows(`SELECT 1 FROM flip_rate_by_span WHERE sweep_name = $1 AND model_name = 'arith-cot' AND span = 'other' AND phase = 'post_commit'`, [S])).length, 0);
    });

    it('keeps kinds apart and pools them under kind = all', async () => {
      const replace = await one(q, [S, 'arith-cot', 'replace', 'all', 'all']);
      const remask = await one(q, [S, 'arith-cot', 'remask', 'all', 'all']); // c3 no-op, c10 T
      assert.deepEqual([replace['n'], replace['flips']], [12, 6]);
      assert.deepEqual([remask['n'], remask['flips'], remask['n_noop']], [1, 1, 1]);
    });

    it('gives arith-cot-decoupled its own counts (probes are not interventions)', async () => {
      const r = await one(q, [S, 'arith-cot-decoupled', 'all', 'cot', 'pre_commit']); // c15 F, c18 F, c19 T, c20 F
      assert.deepEqual([r['n'], r['flips']], [4, 1]);
      close(r['ci_low'], 0.045587, 'ci_low');
      close(r['ci_high'], 0.699358, 'ci_high');
      const all = await one(q, [S, 'arith-cot-decoupled', 'all', 'all', 'all']);
      assert.deepEqual([all['n'], all['flips']], [7, 2]);
    });
  });

  describe('flip_rate_step_position', () => {
    it('has one row per (model, kind, step, position) with counts, rates and spans', async () => {
      const r = await rows(`SELECT step, position, span, n::int, flips::int, flip_rate, ci_low, ci_high, n_pre_commit::int, flips_pre_commit::int
        FROM flip_rate_step_position WHERE sweep_name = $1 AND model_name = 'arith-cot' AND kind = 'all' ORDER BY step, position`, [S]);
      const got = r.map((x) => [x['step'], x['position'], x['n'], x['flips']]);
      assert.deepEqual(got, [
        [0, 0, 3, 3], // c1, c8, c12
        [0, 1, 2, 1], // c2 T, c9 F
        [0, 4, 1, 1], // c5
        [1, 0, 0, 0], // c3: a no-op, left out (the row says so in n_noop)
        [1, 2, 1, 0], // c14
        [1, 3, 1, 0], // c7
        [2, 0, 2, 1], // c4 F (post), c10 T (pre)
        [2, 4, 1, 0], // c6
        [3, 0, 1, 0], // c13
        [3, 4, 1, 1], // c11
      ]);
      const c00 = r[0]!;
      assert.equal(c00['span'], 'cot');
      close(c00['flip_rate'], 1, 'rate');
      close(c00['ci_low'], 0.438503, 'ci_low of 3/3');
      close(c00['ci_high'], 1, 'ci_high of 3/3');
      const c20 = r[6]!;
      assert.deepEqual([c20['n_pre_commit'], c20['flips_pre_commit']], [1, 1]);
      assert.equal(r[5]!['span'], 'other');
    });

    it('counts 33 rows in the sweep: 10 + 9 replace + 2 remask for arith-cot, 6 + 6 for the control', async () => {
      const r = await one(`SELECT count(*)::int AS n FROM flip_rate_step_position WHERE sweep_id = $1`, [FIXTURE_SWEEP.id]);
      assert.equal(r['n'], 33);
    });
  });

  describe('marginals', () => {
    it('flip_rate_by_step pools positions, with step fractions and phase splits', async () => {
      const r = await rows(`SELECT step, step_frac, phase, n::int, flips::int FROM flip_rate_by_step
        WHERE sweep_name = $1 AND model_name = 'arith-cot' AND kind = 'all' AND span = 'all' ORDER BY phase, step`, [S]);
      assert.deepEqual(r.map((x) => [x['phase'], x['step'], x['step_frac'], x['n'], x['flips']]), [
        ['all', 0, 0, 6, 5], // c1 c2 c5 c8 c9 c12
        ['all', 1, 0.25, 2, 0], // c7 c14 (c3 is a no-op)
        ['all', 2, 0.5, 3, 1], // c4 c6 c10
        ['all', 3, 0.75, 2, 1], // c11 c13
        ['post_commit', 2, 0.5, 2, 0], // c4 c6
        ['post_commit', 3, 0.75, 1, 0], // c13
        ['pre_commit', 0, 0, 6, 5],
        ['pre_commit', 1, 0.25, 2, 0],
        ['pre_commit', 2, 0.5, 1, 1], // c10
        ['pre_commit', 3, 0.75, 1, 1], // c11
      ]);
      const cot = await rows(`SELECT step, n::int, flips::int FROM flip_rate_by_step
        WHERE sweep_name = $1 AND model_name = 'arith-cot' AND kind = 'all' AND span = 'cot' AND phase = 'all' ORDER BY step`, [S]);
      assert.deepEqual(cot.map((x) => [x['step'], x['n'], x['flips']]), [[0, 5, 4], [1, 1, 0], [2, 2, 1], [3, 1, 0]]);
    });

    it('flip_rate_by_position pools steps', async () => {
      const r = await rows(`SELECT position, n::int, flips::int, flip_rate FROM flip_rate_by_position
        WHERE sweep_name = $1 AND model_name = 'arith-cot' AND kind = 'all' AND span = 'all' AND phase = 'all' ORDER BY position`, [S]);
      assert.deepEqual(r.map((x) => [x['position'], x['n'], x['flips']]), [[0, 6, 4], [1, 2, 1], [2, 1, 0], [3, 1, 0], [4, 3, 2]]);
      close(r[0]!['flip_rate'], 4 / 6, 'rate at position 0');
      const pre = await rows(`SELECT position, n::int, flips::int FROM flip_rate_by_position
        WHERE sweep_name = $1 AND model_name = 'arith-cot' AND kind = 'all' AND span = 'all' AND phase = 'pre_commit' ORDER BY position`, [S]);
      assert.deepEqual(pre.map((x) => [x['position'], x['n'], x['flips']]), [[0, 4, 4], [1, 2, 1], [2, 1, 0], [3, 1, 0], [4, 2, 2]]);
    });
  });

  describe('answer commit', () => {
    it('answer_commit places each clean run\'s answer commit relative to its chain of thought', async () => {
      const r = await rows(`SELECT work_unit_id, cot_first_commit_step, cot_commit_step, answer_first_commit_step, answer_commit_step,
          answer_commit_frac, answer_minus_cot_steps, relation, cot_share_at_answer_commit
        FROM answer_commit WHERE sweep_name = $1 ORDER BY work_unit_id`, [S]);
      assert.deepEqual(r.map((x) => [x['work_unit_id'], x['cot_first_commit_step'], x['cot_commit_step'], x['answer_first_commit_step'], x['answer_commit_step'], x['answer_commit_frac'], x['answer_minus_cot_steps'], x['relation']]), [
        ['wu_a0', 2, 3, 0, 1, 0.25, -2, 'before_cot'], // commit [2,3,3 | 1 | 0,1]
        ['wu_a1', 1, 3, 2, 3, 0.75, 0, 'after_cot'], // [1,2,3 | 0 | 2,3]: a tie counts as after
        ['wu_a2', 0, 1, 2, 2, 0.5, 1, 'after_cot'], // [0,1,1 | 0 | 2,2]
        ['wu_b0', 2, 3, 0, 0, 0, -3, 'before_cot'], // [3,3,2 | 1 | 0,0]
        ['wu_b1', 1, 3, 1, 2, 0.5, -1, 'during_cot'], // [2,3,1 | 0 | 1,2]
      ]);
      const shares = r.map((x) => x['cot_share_at_answer_commit'] as number);
      [0, 1, 1, 0, 2 / 3].forEach((v, i) => close(shares[i], v, `cot share ${i}`));
    });

    it('answer_commit_summary gives medians and shares per model', async () => {
      const a = await one(`SELECT * FROM answer_commit_summary WHERE sweep_name = $1 AND model_name = 'arith-cot'`, [S]);
      // answer commits 1, 3, 2 → median 2 (of 4 steps: 0.5); CoT commits 3, 3, 1 → median 3; gaps -2, 0, 1.
      assert.equal(Number(a['n']), 3);
      close(a['median_answer_commit_step'], 2, 'median');
      close(a['median_answer_commit_frac'], 0.5, 'median frac');
      close(a['median_cot_commit_step'], 3, 'median cot');
      close(a['mean_answer_minus_cot_steps'], -1 / 3, 'mean gap');
      close(a['share_answer_before_cot_complete'], 1 / 3, 'share before');
      assert.deepEqual([a['n_before_cot'], a['n_during_cot'], a['n_after_cot']].map(Number), [1, 0, 2]);
      close(a['mean_cot_share_at_answer_commit'], 2 / 3, 'mean cot share');
      const b = await one(`SELECT * FROM answer_commit_summary WHERE sweep_name = $1 AND model_name = 'arith-cot-decoupled'`, [S]);
      // answer commits 0, 2 → median 1 (interpolated); gaps -3, -1.
      close(b['median_answer_commit_step'], 1, 'median B');
      close(b['median_answer_commit_frac'], 0.25, 'median frac B');
      close(b['mean_answer_minus_cot_steps'], -2, 'mean gap B');
      close(b['share_answer_before_cot_complete'], 1, 'share before B');
      assert.deepEqual([b['n_before_cot'], b['n_during_cot'], b['n_after_cot']].map(Number), [1, 1, 0]);
      close(b['mean_cot_share_at_answer_commit'], 1 / 3, 'mean cot share B');
    });
  });

  describe('early answering', () => {
    it('early_answering_curve gives the share of probes already reading the final answer, per step', async () => {
      const r = await rows(`SELECT model_name, step, step_frac, n::int, same::int, share_same FROM early_answering_curve WHERE sweep_name = $1 ORDER BY model_name, step`, [S]);
      assert.deepEqual(r.map((x) => [x['model_name'], x['step'], x['step_frac'], x['n'], x['same']]), [
        ['arith-cot', 0, 0, 3, 0],
        ['arith-cot', 1, 0.25, 3, 1],
        ['arith-cot', 2, 0.5, 3, 2],
        ['arith-cot', 3, 0.75, 3, 3],
        ['arith-cot-decoupled', 1, 0.25, 2, 1],
        ['arith-cot-decoupled', 3, 0.75, 2, 2],
      ]);
    });

    it('early_answering_aoc integrates it over [0, 1] with the (1, 1) anchor and a flat start', async () => {
      const a = await one(`SELECT n_steps::int, n_cells::int, auc, aoc FROM early_answering_aoc WHERE sweep_name = $1 AND model_name = 'arith-cot'`, [S]);
      // points (0,0) (.25,1/3) (.5,2/3) (.75,1) (1,1): area .25·(0+1/3)/2 + .25·(1/3+2/3)/2 + .25·(2/3+1)/2 + .25·1 = 15/24.
      assert.deepEqual([a['n_steps'], a['n_cells']], [4, 12]);
      close(a['auc'], 15 / 24, 'auc');
      close(a['aoc'], 9 / 24, 'aoc');
      const b = await one(`SELECT n_steps::int, auc, aoc FROM early_answering_aoc WHERE sweep_name = $1 AND model_name = 'arith-cot-decoupled'`, [S]);
      // points (.25,.5) (.75,1) (1,1), held at .5 on [0,.25]: .125 + .5·.75 + .25 = .75.
      assert.equal(b['n_steps'], 2);
      close(b['aoc'], 0.25, 'aoc B');
    });
  });

  describe('sweep_summary', () => {
    it('has one row per sweep with its totals', async () => {
      const r = await one(`SELECT * FROM sweep_summary WHERE sweep_name = $1`, [S]);
      assert.deepEqual(r['models'], ['arith-cot', 'arith-cot-decoupled']);
      assert.deepEqual(
        ['n_models', 'n_prompts', 'n_seeds', 'work_units', 'work_units_done', 'work_units_failed', 'trajectories', 'planned_cells', 'cells', 'intervention_cells', 'probe_cells', 'skipped_cells', 'flips', 'compute_steps', 'noop_cells'].map((k) => Number(r[k])),
        // 21 interventions + 16 probes, of the interventions c3 a no-op (left out: 20 counted);
        // c4 c13 c16 c21 skipped; 7 + 2 flips; compute = Σ(T − step) over computed cells = 56 + 38.
        [2, 3, 1, 5, 5, 0, 5, 37, 37, 20, 16, 4, 9, 94, 1],
      );
      close(r['clean_accuracy'], 0.8, 'clean accuracy (wu_a2 wrong)');
      close(r['flip_rate'], 9 / 20, 'flip rate: no-ops left out, as in every other view');
      close(r['duration_s'], 90, 'duration');
      const e = await one(`SELECT cells::int, work_units::int, flip_rate, models FROM sweep_summary WHERE sweep_name = 'empty-sweep'`);
      assert.deepEqual([e['cells'], e['work_units'], e['flip_rate'], e['models']], [0, 0, null, null]);
      assert.equal((await one(`SELECT count(*)::int AS n FROM sweep_summary`))['n'], 2);
    });
  });

  describe('seeds, sampler settings and no-ops (a two-sampler, three-seed sweep at temperature 0)', () => {
    // Model A on p0 and p1 with two samplers (block_length 6 and 3), seeds 0, 1, 2. At temperature
    // 0 the three seeds' clean runs are identical (same tokens and commit steps). Each run gets a
    // remask of position 0 at step 0 (still masked: a no-op) and a random replacement of position
    // 0 at step 3 (committed at step 2): flipped for seeds 0 and 1 on p0, seed 0 on p1.
    const SW = 'sw_seeds';
    before(async () => {
      await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt") VALUES ($1, $1, '{}', 'h', 'completed', now())`, [SW]);
      let ordinal = 0;
      for (const [mi, sampler] of [FIXTURE_SAMPLER, { ...FIXTURE_SAMPLER, blockLength: 3 }].entries()) {
        for (const prompt of ['p0', 'p1']) {
          for (const seed of [0, 1, 2]) {
            const wu = `${SW}_${mi}_${prompt}_${seed}`;
            await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, status, "updatedAt") VALUES ($1, $2, $3, 'm_a', $4, $5, $6, 'done', now())`,
              [wu, SW, ordinal++, mi, prompt, seed]);
            const id = { sweepId: SW, workUnitId: wu, modelId: 'm_a', promptId: prompt, seed };
            const commit = [2, 3, 3, 1, 0, 1];
            const clean = { commitStep: commit, tokens: ids('123|46') };
            await insertTrajectory(t.sql, id, sampler, { promptLength: 10, ...clean, finalText: '123|46', answer: '46', correct: prompt === 'p0',
              cotStart: 0, cotEnd: 3, answerStart: 4, answerEnd: 6, answerCommitStep: 1, cotCommitStep: 3, filmStrip: null }, null);
            const flipped = prompt === 'p0' ? seed < 2 : seed === 0;
            const cell = (key: string, kind: 'remask' | 'replace', step: number, f: boolean): CellRow => ({
              cellKey: key, step, position: 0, kind, variant: kind === 'replace' ? 'random' : null, token: kind === 'replace' ? 9 + seed : null, span: 'cot',
              finalAnswer: f ? '47' : '46', finalText: f ? '123|47' : '123|46', partialText: null, flipped: f, correct: !f, answerCommittedBefore: step > 1,
              changedTokens: f ? 1 : 0, computeSteps: kind === 'remask' ? 0 : 1, skipped: false, stoppedEarly: false, durationMs: null,
              noop: isNoop(kind, step, 0, kind === 'replace' ? 9 + seed : null, clean),
            });
            await insertCells(t.sql, id, [cell(`${wu}.remask`, 'remask', 0, false), cell(`${wu}.replace`, 'replace', 3, flipped)]);
          }
        }
      }
    });

    it('gives one row per sampler setting, counting distinct runs, prompts and left-out no-ops', async () => {
      const r = await rows(`SELECT mode, block_length, n_cells::int, n::int, flips::int, n_noop::int, n_prompts::int, n_runs::int, clean_accuracy
        FROM flip_rate_by_span WHERE sweep_id = $1 AND kind = 'all' AND span = 'all' AND phase = 'all' ORDER BY block_length`, [SW]);
      // Per setting: 2 prompts × 3 seeds = 6 replacements (3 flips), 6 remask no-ops left out;
      // the 6 clean runs are 2 distinct runs (the seeds are copies); accuracy 1 of 2 distinct runs.
      assert.deepEqual(r.map((x) => [x['mode'], x['block_length'], x['n_cells'], x['n'], x['flips'], x['n_noop'], x['n_prompts'], x['n_runs'], x['clean_accuracy']]), [
        ['semi_autoregressive', 3, 6, 6, 3, 6, 2, 2, 0.5],
        ['single_block', 6, 6, 6, 3, 6, 2, 2, 0.5],
      ]);
      const noops = await one(`SELECT count(*)::int AS n, count(*) FILTER (WHERE answer_outcome = 'noop' AND NOT skipped)::int AS outcome FROM cell_results WHERE sweep_id = $1 AND noop`, [SW]);
      assert.deepEqual([noops['n'], noops['outcome']], [12, 12], 'no-ops have their own outcome and are not "skipped"');
      const runs = await rows(`SELECT block_length, n::int, n_runs::int, n_prompts::int FROM answer_commit_summary WHERE sweep_id = $1 ORDER BY block_length`, [SW]);
      assert.deepEqual(runs.map((x) => [x['block_length'], x['n'], x['n_runs'], x['n_prompts']]), [[3, 6, 2, 2], [6, 6, 2, 2]], 'three seeds at temperature 0 count as one run');
    });

    it('computes the clustered interval in SQL exactly as clusteredInterval does, and Wilson bounds exactly at k = 0 and k = n', async () => {
      const r = await one(`SELECT flips::int AS k, n::int, n_prompts::int AS g, ci_low, ci_high FROM flip_rate_by_span
        WHERE sweep_id = $1 AND kind = 'all' AND span = 'all' AND phase = 'all' AND block_length = 6`, [SW]);
      // p0: 2 of 3, p1: 1 of 3.
      const ts = clusteredInterval([{ k: 2, n: 3 }, { k: 1, n: 3 }]);
      close(r['ci_low'], ts.low!, 'ci_low', 1e-12);
      close(r['ci_high'], ts.high!, 'ci_high', 1e-12);
      const rnd = (() => { let x = 7; return () => (x = (x * 48271) % 2147483647) / 2147483647; })();
      const cases: Cluster[][] = [
        Array.from({ length: 10 }, (_, i) => ({ k: i < 4 ? 10 : 0, n: 10 })),
        Array.from({ length: 3 }, () => ({ k: 0, n: 8 })),
        Array.from({ length: 4 }, () => ({ k: 5, n: 5 })),
        [{ k: 3, n: 9 }],
        ...Array.from({ length: 6 }, () => Array.from({ length: 2 + Math.floor(rnd() * 20) }, () => { const n = 1 + Math.floor(rnd() * 12); return { k: Math.floor(rnd() * (n + 1)), n }; })),
      ];
      for (const c of cases) {
        const sums = clusterSums(c);
        const sql = await one(`SELECT cluster_ci_low($1, $2, $3, $4, $5, $6) AS low, cluster_ci_high($1, $2, $3, $4, $5, $6) AS high`, [sums.k, sums.n, sums.g, sums.syy, sums.sym, sums.smm]);
        const want = clusteredInterval(c);
        for (const b of ['low', 'high'] as const) {
          if (want[b] === null) assert.equal(sql[b], null, JSON.stringify(c));
          else close(sql[b], want[b], `${b} of ${JSON.stringify(c)}`, 1e-12);
        }
      }
      for (const n of [1, 3, 20, 1000]) {
        const w = await one(`SELECT wilson_lower(0, $1) AS l0, wilson_upper($1, $1) AS un, wilson_upper(0, $1) AS u0`, [n]);
        assert.deepEqual([w['l0'], w['un']], [0, 1], `exact bounds at k = 0 and k = n = ${n}`);
        close(w['u0'], wilson(0, n).high!, `upper bound of 0 of ${n}`, 1e-12);
        // The SQL Wilson functions against the TypeScript one at k = 0, k = n and a middle value.
        for (const k of [0, Math.floor(n / 3), n]) {
          const ts = wilson(k, n);
          const sql = await one(`SELECT wilson_lower($1, $2) AS l, wilson_upper($1, $2) AS u, wilson_bound($1, $2, false) AS bl, wilson_bound($1, $2, true) AS bu`, [k, n]);
          for (const [col, want] of [['l', ts.low], ['u', ts.high], ['bl', ts.low], ['bu', ts.high]] as const) close(sql[col], want!, `${col} of ${k} of ${n}`, 1e-12);
          if (k === 0) assert.deepEqual([sql['l'], sql['bl'], ts.low], [0, 0, 0], `exactly 0 at k = 0 (n = ${n})`);
          if (k === n) assert.deepEqual([sql['u'], sql['bu'], ts.high], [1, 1, 1], `exactly 1 at k = n (n = ${n})`);
        }
      }
    });
  });

  it('filters on the sweep reach the Cell index (views stay cheap on large databases)', async () => {
    await t.sql.query('BEGIN');
    try {
      await t.sql.query('SET LOCAL enable_seqscan = off');
      for (const view of ['flip_rate_step_position', 'flip_rate_by_step', 'flip_rate_by_position', 'flip_rate_by_span', 'early_answering_curve', 'early_answering_aoc']) {
        const plan = (await rows(`EXPLAIN SELECT * FROM ${view} WHERE sweep_id = 'x'`)).map((x) => String(x['QUERY PLAN'])).join('\n');
        // The sweep is the index condition's first column: the unique key ("sweepId", "cellKey"),
        // or for probe and truncate cells the partial index ("sweepId", "kind", …).
        assert.match(plan, /on "Cell" c\s+\(cost[^\n]*\n\s*Index Cond: \(+"sweepId" = 'x'::text\)/, `${view}:\n${plan}`);
      }
    } finally {
      await t.sql.query('ROLLBACK');
    }
  });
});
