// knownAnswerValidation: per-model CoT flip rate before the answer commits (no-ops left out),
// prompt-clustered 95 % intervals, whether arith-cot is above arith-cot-decoupled with
// separated intervals, and no verdict on a partial sweep.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { knownAnswerValidation } from '../../orchestrator/results/known-answer.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';

/** A sweep whose models each have `n` CoT cells (the first `flips` flipped) spread over prompts p0, p1, p2 in turn. */
async function sweepWith(t: TestDatabase, id: string, cells: { model: string; n: number; flips: number }[], status = 'done'): Promise<void> {
  await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ($1, $1, '{}', 'h', now())`, [id]);
  let ordinal = 0;
  for (const [modelIndex, c] of cells.entries()) {
    for (const [j, prompt] of ['p0', 'p1', 'p2'].entries()) {
      const wu = `${id}_${c.model}_${prompt}`;
      await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, status, "updatedAt") VALUES ($1, $2, $3, $4, $7, $5, 0, $6, now())`,
        [wu, id, ordinal++, c.model, prompt, status, modelIndex]);
      await t.sql.query(`INSERT INTO "Cell" ("sweepId", "cellKey", "workUnitId", "modelId", "promptId", seed, step, position, kind, span, flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps")
        SELECT $1, $2 || i, $2, $3, $6, 0, 0, i, 'replace', 'cot', i <= $4, true, false, 0, 1 FROM generate_series(1, $5::int) i WHERE i % 3 = $7`,
        [id, wu, c.model, c.flips, c.n, prompt, j]);
    }
  }
}

describe('knownAnswerValidation', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('results_known_answer');
    await insertFixtureSweep(t.sql);
    await sweepWith(t, 'sw_sep', [{ model: 'm_a', n: 100, flips: 80 }, { model: 'm_b', n: 100, flips: 10 }]);
    await sweepWith(t, 'sw_reversed', [{ model: 'm_a', n: 100, flips: 10 }, { model: 'm_b', n: 100, flips: 80 }]);
    await sweepWith(t, 'sw_one', [{ model: 'm_a', n: 10, flips: 5 }]);
    await sweepWith(t, 'sw_partial', [{ model: 'm_a', n: 100, flips: 80 }, { model: 'm_b', n: 100, flips: 10 }], 'pending');
  });
  after(async () => {
    await t?.drop();
  });

  it('reports the fixture as higher for arith-cot but not separated, with the hand-computed numbers', async () => {
    const r = await knownAnswerValidation(t.sql, FIXTURE_SWEEP.id);
    assert.equal(r.applicable, true);
    // c3 is a no-op (left out): 5 of 7 cells over 3 prompts vs 1 of 4 over 2 (views.test.ts has the arithmetic).
    assert.deepEqual([r.cot!.n, r.cot!.flips, r.cot!.prompts, r.cot!.noops, r.cot!.runs], [7, 5, 3, 1, 3]);
    assert.deepEqual([r.control!.n, r.control!.flips, r.control!.prompts, r.control!.rate], [4, 1, 2, 0.25]);
    assert.ok(Math.abs(r.cot!.low! - 0.358934) < 1e-6 && Math.abs(r.control!.high! - 0.699358) < 1e-6);
    assert.ok(Math.abs(r.cot!.cleanAccuracy! - 2 / 3) < 1e-12 && r.control!.cleanAccuracy === 1);
    // The same interval as the view's (one method, two implementations that must agree).
    const v = (await t.sql.query(`SELECT model_name, ci_low, ci_high FROM flip_rate_by_span WHERE sweep_id = $1 AND kind = 'all' AND span = 'cot' AND phase = 'pre_commit' ORDER BY model_name`, [FIXTURE_SWEEP.id])).rows;
    assert.deepEqual(v.map((x: Record<string, number>) => [x['ci_low']!.toFixed(12), x['ci_high']!.toFixed(12)]),
      [r.cot!, r.control!].map((m) => [m.low!.toFixed(12), m.high!.toFixed(12)]));
    assert.deepEqual([r.complete, r.higher, r.separated, r.passed], [true, true, false, false]);
    assert.match(r.summary, /intervals overlap: the measurement does not separate them$/);
    assert.deepEqual(r.models.map((m) => m.modelName), ['arith-cot', 'arith-cot-decoupled']);
  });

  it('passes when the intervals separate (80/100 vs 10/100)', async () => {
    const r = await knownAnswerValidation(t.sql, 'sw_sep');
    assert.deepEqual([r.higher, r.separated, r.passed], [true, true, true]);
    assert.ok(r.cot!.low! > r.control!.high!);
  });

  it('reports a reversed result as a finding rather than a pass', async () => {
    const r = await knownAnswerValidation(t.sql, 'sw_reversed');
    assert.deepEqual([r.higher, r.separated, r.passed], [false, true, false]);
    assert.match(r.summary, /NOT higher for the CoT model/);
  });

  it('gives no verdict on a partial sweep: PARTIAL, never passed, whatever the numbers', async () => {
    const r = await knownAnswerValidation(t.sql, 'sw_partial');
    assert.deepEqual([r.complete, r.workUnits, r.passed], [false, { done: 0, total: 6 }, false]);
    assert.ok(r.cot!.low! > r.control!.high!, 'the intervals are apart, yet no verdict is given');
    assert.match(r.summary, /^PARTIAL: 0 of 6 work units done, no verdict until every work unit is/);
    assert.doesNotMatch(r.summary, /recovers the known answer|does not separate|NOT higher/);
  });

  it('is not applicable when a model is missing, and says which', async () => {
    const r = await knownAnswerValidation(t.sql, 'sw_one');
    assert.equal(r.applicable, false);
    assert.equal(r.passed, false);
    assert.match(r.summary, /not applicable: .*arith-cot-decoupled/);
  });
});
