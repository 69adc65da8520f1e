// Migration 20261205000000_numbers on rows written before it: sampler settings move from the
// JSON column (either spelling: sweeps wrote camelCase, fixtures once wrote snake_case) to the
// typed columns; skipped cells that were no-ops become noop (and stop being skipped); the
// database refuses settings the sampler would refuse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { silentLogger } from '../../common/log.ts';
import { emptyDatabase } from '../helpers/db.ts';

const MIGRATION = '20261205000000_numbers';

describe(`migration ${MIGRATION}`, () => {
  it('fills the typed sampler columns from either spelling and marks old no-op cells', async () => {
    const empty = await emptyDatabase('numbers_migration');
    const sql = new pg.Client({ connectionString: empty.url });
    await sql.connect();
    try {
      const all = readMigrations(resolvePaths(process.env).migrationsDir);
      const at = all.findIndex((m) => m.name === MIGRATION);
      assert.ok(at > 0, `${MIGRATION} exists`);
      await applyMigrations(sql, all.slice(0, at), silentLogger);
      await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 's', '{}', 'h', now())`);
      await sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'x', 'x', '{}')`);
      await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p', 'd', 0, '1+1=', '2')`);
      const samplers = {
        camel: { genLength: 6, steps: 4, blockLength: 3, remasking: 'low_confidence', temperature: 0 },
        snake: { gen_length: 6, steps: 6, block_length: 6, remasking: 'random', temperature: 0.5 },
      };
      for (const [i, [w, sampler]] of Object.entries(samplers).entries()) {
        await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ($1, 's', $2, 'm', 'p', $2, now())`, [w, i]);
        await sql.query(`INSERT INTO "Trajectory" (id, "workUnitId", "sweepId", "modelId", "promptId", seed, sampler, "promptLength", "commitStep", tokens, "finalText", answer, correct)
          VALUES ($1, $1, 's', 'm', 'p', $2, $3, 4, '{2,3,3,1,0,1}', '{4,5,6,17,7,9}', '123|46', '46', true)`, [w, i, JSON.stringify(sampler)]);
      }
      const cell = (key: string, kind: string, step: number, position: number, token: number | null, skipped: boolean) =>
        sql.query(`INSERT INTO "Cell" ("sweepId", "cellKey", "workUnitId", "modelId", "promptId", seed, step, position, kind, token, span, "finalAnswer", flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps", skipped)
                   VALUES ('s', $1, 'camel', 'm', 'p', 0, $2, $3, $4, $5, 'cot', '46', false, true, false, 0, $6, $7)`, [key, step, position, kind, token, skipped ? 0 : 3, skipped]);
      await cell('remask-masked', 'remask', 1, 0, null, true); // committed at step 2: still masked at step 1
      await cell('remask-committed', 'remask', 3, 0, null, false);
      await cell('replace-same', 'replace', 3, 0, 4, true); // committed at 2 with token 4
      await cell('replace-settled', 'replace', 3, 1, 8, true); // a real change, answer settled: stays skipped
      await applyMigrations(sql, all, silentLogger);
      const t = await sql.query(`SELECT "workUnitId", "genLength", steps, "blockLength", remasking, temperature FROM "Trajectory" ORDER BY "workUnitId"`);
      assert.deepEqual(t.rows, [
        { workUnitId: 'camel', genLength: 6, steps: 4, blockLength: 3, remasking: 'low_confidence', temperature: 0 },
        { workUnitId: 'snake', genLength: 6, steps: 6, blockLength: 6, remasking: 'random', temperature: 0.5 },
      ]);
      const c = await sql.query(`SELECT "cellKey", noop, skipped, "answerOutcome" FROM "Cell" ORDER BY "cellKey"`);
      assert.deepEqual(c.rows.map((r: Record<string, unknown>) => [r['cellKey'], r['noop'], r['skipped'], r['answerOutcome']]), [
        ['remask-committed', false, false, 'same'],
        ['remask-masked', true, false, 'noop'],
        ['replace-same', true, false, 'noop'],
        ['replace-settled', false, true, 'same'],
      ]);
      await assert.rejects(sql.query(`UPDATE "Trajectory" SET "blockLength" = 4 WHERE "workUnitId" = 'camel'`), /Trajectory_sampler_check/, 'gen_length 6 is not divisible by block_length 4');
      await assert.rejects(sql.query(`UPDATE "Trajectory" SET remasking = 'lowest' WHERE "workUnitId" = 'camel'`), /Trajectory_sampler_check/);
    } finally {
      await sql.end();
      await empty.drop();
    }
  });
});
