// Cell ingestion of the outcomes an agent reports (orchestrator/activities/cells.ts) against the
// migrated database: no answer is its own outcome (a flip when the clean run had one), a partial
// text is never stored as the final text, an unknown count is NULL (not 0), and the migration
// moves partial texts of rows written before it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome } from '../../generated/proto/faithsweep/v1/agent.ts';
import { cellRow, insertCells } from '../../orchestrator/activities/cells.ts';
import type { UnitIdentity } from '../../orchestrator/activities/cells.ts';
import { resolvePaths } from '../../common/config/paths.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { silentLogger } from '../../common/log.ts';
import type { PlannedCell } from '../../orchestrator/sweep/grid.ts';
import { emptyDatabase, freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import pg from 'pg';

const MIGRATION = '20261130100000_cell_outcomes';
// Every position committed at step 0 with token 0: a replacement with token 7 at step 5 changes the state (no no-op).
const spans = { cotStart: 0, cotEnd: 27, answerStart: 28, answerEnd: 33, commitStep: new Array<number>(40).fill(0), tokens: new Array<number>(40).fill(0) };
const planned = (key: string, position: number): PlannedCell => ({ key, step: 5, position, kind: { kind: 'replace', variant: 'random' } });
const result = (key: string, r: Partial<InterventionResult>): InterventionResult => ({
  key, answer: '1735', text: '320>05;580>13;601>07;010>01|01735', flipped: false, correct: true, answerCommittedBefore: false, positionCommittedBefore: false,
  token: 7, changedTokens: 0, computeSteps: 30, skipped: false, tokens: [], stoppedEarly: false, textPartial: false, outcome: AnswerOutcome.ANSWER_SAME, ...r,
});

/** Inserts the rows every test needs: a sweep, model, prompt and work unit. */
async function parents(sql: pg.Client): Promise<UnitIdentity> {
  await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 's', '{}', 'h', now())`);
  await sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'models/arith-cot', 'x', $1)`, [JSON.stringify({ special_tokens: { mask: '<|mask|>' } })]);
  await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p', 'd', 0, '0653+1082=', '1735')`);
  await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w', 's', 0, 'm', 'p', 0, now())`);
  return { sweepId: 's', workUnitId: 'w', modelId: 'm', promptId: 'p', seed: 0 };
}

describe('cell outcomes in the database', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('cell_outcomes');
  });
  after(async () => {
    await t?.drop();
  });

  it('stores no answer, partial texts and unknown counts as such', async () => {
    const id = await parents(t.sql);
    const rows = [
      cellRow('same', planned('same', 3), result('same', {}), spans, 1234),
      cellRow('changed', planned('changed', 30), result('changed', { answer: '1736', flipped: true, correct: false, outcome: AnswerOutcome.ANSWER_CHANGED, changedTokens: 2 }), spans),
      cellRow('none', planned('none', 10), result('none', { answer: undefined, text: '320>05;580', flipped: true, correct: false, outcome: AnswerOutcome.NO_ANSWER, changedTokens: 20 }), spans),
      cellRow('stopped', planned('stopped', 5), result('stopped', { text: '320>0<|mask|>;580>13;601>07;010>01|01735', textPartial: true, stoppedEarly: true, changedTokens: undefined, computeSteps: 12 }), spans),
      cellRow('settled', planned('settled', 5), result('settled', { stoppedEarly: true, changedTokens: undefined, computeSteps: 20 }), spans),
    ];
    assert.equal(await insertCells(t.sql, id, rows), rows.length);
    const got = await t.sql.query(`SELECT "cellKey", "answerOutcome", "finalAnswer", flipped, "finalText", "partialText", "changedTokens", "stoppedEarly", span
                                     FROM "Cell" ORDER BY "cellKey"`);
    const byKey = Object.fromEntries(got.rows.map((r: Record<string, unknown>) => [r['cellKey'], r]));
    assert.deepEqual(Object.keys(byKey).sort(), ['changed', 'none', 'same', 'settled', 'stopped']);
    assert.deepEqual(['same', 'changed', 'none'].map((k) => [byKey[k]!['answerOutcome'], byKey[k]!['flipped']]), [['same', false], ['changed', true], ['none', true]]);
    assert.equal(byKey['none']!['finalAnswer'], null);
    // Cell.durationMs: the worker's measured milliseconds to the cell's result (null when not measured).
    const durations = await t.sql.query(`SELECT "cellKey", "durationMs" FROM "Cell" WHERE "cellKey" IN ('same', 'none') ORDER BY "cellKey"`);
    assert.deepEqual(durations.rows, [{ cellKey: 'none', durationMs: null }, { cellKey: 'same', durationMs: 1234 }]);
    assert.deepEqual(byKey['stopped'], {
      cellKey: 'stopped', answerOutcome: 'same', finalAnswer: '1735', flipped: false, finalText: null,
      partialText: '320>0<|mask|>;580>13;601>07;010>01|01735', changedTokens: null, stoppedEarly: true, span: 'cot',
    });
    assert.deepEqual([byKey['settled']!['finalText'], byKey['settled']!['partialText'], byKey['settled']!['changedTokens']], ['320>05;580>13;601>07;010>01|01735', null, null],
      'a branch stopped once its response was settled has its final text, but no count');
    const view = await t.sql.query(`SELECT cell_key, answer_outcome, stopped_early, text_partial, changed_tokens FROM cell_results WHERE cell_key IN ('none', 'stopped') ORDER BY cell_key`);
    assert.deepEqual(view.rows, [
      { cell_key: 'none', answer_outcome: 'none', stopped_early: false, text_partial: false, changed_tokens: 20 },
      { cell_key: 'stopped', answer_outcome: 'same', stopped_early: true, text_partial: true, changed_tokens: null },
    ]);
    await assert.rejects(t.sql.query(`UPDATE "Cell" SET "answerOutcome" = 'same' WHERE "cellKey" = 'none'`), /can only be updated to DEFAULT/, 'the outcome is derived, never written');
  });

  it('moves partial texts and unknown counts of rows written before the migration', async () => {
    const empty = await emptyDatabase('cell_outcomes_backfill');
    const sql = new pg.Client({ connectionString: empty.url });
    await sql.connect();
    try {
      const all = readMigrations(resolvePaths(process.env).migrationsDir);
      const at = all.findIndex((m) => m.name === MIGRATION);
      assert.ok(at > 0, `${MIGRATION} exists`);
      await applyMigrations(sql, all.slice(0, at), silentLogger);
      await parents(sql);
      const insert = (key: string, text: string, skipped: boolean, computeSteps: number, flipped = false, answer: string | null = '1735') =>
        sql.query(`INSERT INTO "Cell" ("sweepId", "cellKey", "workUnitId", "modelId", "promptId", seed, step, position, kind, span, "finalAnswer", "finalText", flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps", skipped)
                   VALUES ('s', $1, 'w', 'm', 'p', 0, 5, 3, 'replace', 'cot', $2, $3, $4, true, false, 0, $5, $6)`, [key, answer, text, flipped, computeSteps, skipped]);
      await insert('early', '320>0<|mask|>;58', false, 12);
      await insert('skip', '', true, 0);
      await insert('final', '320>05;580>13;601>07;010>01|01735', false, 30);
      await insert('gone', '320>05', false, 30, true, null);
      await applyMigrations(sql, all, silentLogger);
      const r = await sql.query(`SELECT "cellKey", "finalText", "partialText", "changedTokens", "stoppedEarly", "answerOutcome" FROM "Cell" ORDER BY "cellKey"`);
      assert.deepEqual(r.rows, [
        { cellKey: 'early', finalText: null, partialText: '320>0<|mask|>;58', changedTokens: null, stoppedEarly: true, answerOutcome: 'same' },
        { cellKey: 'final', finalText: '320>05;580>13;601>07;010>01|01735', partialText: null, changedTokens: 0, stoppedEarly: false, answerOutcome: 'same' },
        { cellKey: 'gone', finalText: '320>05', partialText: null, changedTokens: 0, stoppedEarly: false, answerOutcome: 'none' },
        { cellKey: 'skip', finalText: null, partialText: null, changedTokens: null, stoppedEarly: false, answerOutcome: 'same' },
      ]);
    } finally {
      await sql.end();
      await empty.drop();
    }
  });
});
