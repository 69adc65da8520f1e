// knownAnswerValidation: per-model CoT flip rate before the answer commits, Wilson 95 %
// intervals, and whether arith-cot is above arith-cot-decoupled with separated intervals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { knownAnswerValidation } from '../../orchestrator/results/known-answer.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';

async function sweepWith(t: TestDatabase, id: string, cells: { model: string; n: number; flips: number }[]): Promise<void> {
  await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ($1, $1, '{}', 'h', now())`, [id]);
  let ordinal = 0;
  for (const c of cells) {
    const wu = `${id}_${c.model}`;
    await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, "updatedAt") VALUES ($1, $2, $3, $4, $3, 'p0', 0, now())`, [wu, id, ordinal++, c.model]);
    await t.sql.query(`INSERT INTO "Cell" ("sweepId", "cellKey", "workUnitId", "modelId", "promptId", seed, step, position, kind, span, flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps")
      SELECT $1, $2 || i, $2, $3, 'p0', 0, 0, i, 'replace', 'cot', i <= $4, true, false, 0, 1 FROM generate_series(1, $5::int) i`, [id, wu, c.model, c.flips, c.n]);
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
  });
  after(async () => {
    await t?.drop();
  });

  it('reports the fixture as higher for arith-cot but not separated, with the hand-computed numbers', async () => {
    const r = await knownAnswerValidation(t.sql, FIXTURE_SWEEP.id);
    assert.equal(r.applicable, true);
    assert.deepEqual([r.cot!.n, r.cot!.flips, r.cot!.rate], [8, 5, 0.625]);
    assert.deepEqual([r.control!.n, r.control!.flips, r.control!.rate], [4, 1, 0.25]);
    assert.ok(Math.abs(r.cot!.low! - 0.305742) < 1e-6 && Math.abs(r.control!.high! - 0.699358) < 1e-6);
    assert.deepEqual([r.higher, r.separated, r.passed], [true, false, false]);
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

  it('is not applicable when a model is missing, and says which', async () => {
    const r = await knownAnswerValidation(t.sql, 'sw_one');
    assert.equal(r.applicable, false);
    assert.equal(r.passed, false);
    assert.match(r.summary, /not applicable: .*arith-cot-decoupled/);
  });
});
