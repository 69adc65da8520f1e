// Every model of prisma/schema.prisma round-trips through the generated client against the
// hand-written migration, so the schema and the SQL cannot drift apart unnoticed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { silentLogger } from '../../common/log.ts';
import { emptyDatabase, freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';

describe('schema v1 through the Prisma client', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('schema');
  });
  after(async () => {
    await t?.drop();
  });

  it('writes and reads every model, relations included', async () => {
    const { db } = t;
    await db.sweep.create({ data: { id: 's1', name: 'sweep-one', spec: { grid: 1 }, specHash: 'h', status: 'running' } });
    await db.model.create({ data: { id: 'm1', name: 'arith-cot', path: 'models/arith-cot', sha256: 'a'.repeat(64), card: { vocab_size: 20 } } });
    await db.prompt.create({ data: { id: 'p1', dataset: 'arith', idx: 0, text: '12+34=', goldAnswer: '46', renderedText: '<|im_start|>user\n12+34=<|im_end|>\n', promptIds: [1, 7, 2] } });
    await db.prompt.create({ data: { id: 'p0', dataset: 'arith', idx: 1, text: '1+1=', goldAnswer: '2' } });
    await db.workUnit.create({ data: { id: 'w1', sweepId: 's1', modelId: 'm1', promptId: 'p1', seed: 7, ordinal: 0, plannedCells: 2 } });
    await db.trajectory.create({
      data: {
        id: 'tr1', workUnitId: 'w1', sweepId: 's1', modelId: 'm1', promptId: 'p1', seed: 7,
        genLength: 4, steps: 4, blockLength: 4, remasking: 'low_confidence', temperature: 0, promptLength: 6, commitStep: [0, 1, 2, 3], tokens: [5, 6, 7, 8],
        finalText: '46', answer: '46', correct: true, cotStart: 0, cotEnd: 2, answerStart: 2, answerEnd: 4, answerCommitStep: 3, cotCommitStep: 1,
      },
    });
    const base = { sweepId: 's1', workUnitId: 'w1', modelId: 'm1', promptId: 'p1', seed: 7, kind: 'replace', span: 'cot', flipped: false, correct: true, answerCommittedBefore: false, changedTokens: 0, computeSteps: 3 };
    const first = await db.cell.createMany({ data: [{ ...base, cellKey: 'k1', step: 1, position: 0 }, { ...base, cellKey: 'k2', step: 2, position: 1, flipped: true }], skipDuplicates: true });
    assert.equal(first.count, 2);
    // A retry writes the same keys again: nothing is duplicated.
    const retry = await db.cell.createMany({ data: [{ ...base, cellKey: 'k2', step: 2, position: 1 }, { ...base, cellKey: 'k3', step: 3, position: 1 }], skipDuplicates: true });
    assert.equal(retry.count, 1);

    const wu = await db.workUnit.findUniqueOrThrow({ where: { id: 'w1' }, include: { trajectory: true, cells: { orderBy: { cellKey: 'asc' } }, sweep: true, model: true, prompt: true } });
    assert.deepEqual(wu.trajectory?.commitStep, [0, 1, 2, 3]);
    assert.deepEqual(wu.cells.map((c) => [c.cellKey, c.flipped]), [['k1', false], ['k2', true], ['k3', false]]);
    assert.equal(wu.sweep.name, 'sweep-one');
    assert.deepEqual(wu.model.card, { vocab_size: 20 });
    assert.equal(wu.prompt.goldAnswer, '46');
    assert.deepEqual([wu.prompt.renderedText, wu.prompt.promptIds], ['<|im_start|>user\n12+34=<|im_end|>\n', [1, 7, 2]]);
    const raw = await db.prompt.findUniqueOrThrow({ where: { id: 'p0' } });
    assert.deepEqual([raw.renderedText, raw.promptIds], [null, []], 'a prompt written without them: no rendered text, no ids');
    assert.equal(typeof wu.cells[0]!.id, 'bigint');
  });

  it('rejects a second cell with the same key in the same sweep', async () => {
    const r = await t.sql.query(`SELECT count(*)::int AS n FROM "Cell" WHERE "cellKey" = 'k2'`);
    assert.equal(r.rows[0].n, 1);
    await assert.rejects(
      t.sql.query(`INSERT INTO "Cell" ("sweepId","cellKey","workUnitId","modelId","promptId",seed,step,position,kind,span,flipped,correct,"answerCommittedBefore","changedTokens","computeSteps") VALUES ('s1','k2','w1','m1','p1',7,2,1,'replace','cot',false,true,false,0,0)`),
      /Cell_sweepId_cellKey_key/,
    );
  });

  it('upgrades prompts written before rendered prompts existed: their text is what the model saw, no ids', async () => {
    const empty = await emptyDatabase('prompt-upgrade');
    const sql = new pg.Client({ connectionString: empty.url });
    await sql.connect();
    try {
      const all = readMigrations(resolvePaths(process.env).migrationsDir);
      const at = all.findIndex((m) => m.name.endsWith('_prompt_rendering'));
      assert.ok(at > 0);
      await applyMigrations(sql, all.slice(0, at), silentLogger);
      await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p-old', 'arith', 0, '0012+0034=', '46')`);
      await applyMigrations(sql, all, silentLogger);
      const r = await sql.query<{ renderedText: string | null; promptIds: number[] }>(`SELECT "renderedText", "promptIds" FROM "Prompt" WHERE id = 'p-old'`);
      assert.deepEqual(r.rows, [{ renderedText: '0012+0034=', promptIds: [] }]);
    } finally {
      await sql.end();
      await empty.drop();
    }
  });
});
