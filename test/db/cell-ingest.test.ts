// Cell ingestion through COPY (orchestrator/activities/cells.ts copyCells) against the migrated
// database: every row arrives exactly once (a repeated or overlapping batch adds only its new
// keys, concurrent writers of the same keys never duplicate), text survives COPY's escaping
// (tabs, newlines, backslashes, "\N" as text, NULL as NULL), both paths store the same rows,
// and a cell still needs its work unit and still goes with its sweep and its work unit
// (migration 20261215000000_cell_ingest_indexes holds that key with statement-level triggers).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { copyCells, copyLines, createIngestPool, insertCells, STORED_UNIT_CELLS_SQL, storedUnitCells } from '../../orchestrator/activities/cells.ts';
import type { CellRow, UnitIdentity } from '../../orchestrator/activities/cells.ts';
import { freshDatabase } from '../helpers/db.ts';
import { ensureTestStack } from '../helpers/stack.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { resolvePaths } from '../../common/config/paths.ts';
import { silentLogger } from '../../common/log.ts';
import type { TestDatabase } from '../helpers/db.ts';

const row = (k: string, over: Partial<CellRow> = {}): CellRow => ({
  cellKey: k, step: 3, position: 7, kind: 'replace', variant: 'random', token: 9, span: 'cot', finalAnswer: '1735',
  finalText: '320>05;580>13|01735', partialText: null, flipped: false, correct: true, answerCommittedBefore: false,
  changedTokens: 2, computeSteps: 12, skipped: false, stoppedEarly: false, durationMs: null, noop: false, ...over,
});

async function parents(sql: pg.Client, n: number): Promise<UnitIdentity> {
  await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s${n}', 's${n}', '{}', 'h', now())`);
  await sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m${n}', 'arith-cot', 'models/arith-cot', 'x${n}', '{}')`);
  await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p${n}', 'd', ${n}, '0653+1082=', '1735')`);
  await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w${n}', 's${n}', 0, 'm${n}', 'p${n}', 0, now())`);
  return { sweepId: `s${n}`, workUnitId: `w${n}`, modelId: `m${n}`, promptId: `p${n}`, seed: 0 };
}

const COLUMNS = `"cellKey", step, position, kind, variant, token, span, "finalAnswer", "finalText", "partialText", flipped, correct,
  "answerCommittedBefore", "changedTokens", "computeSteps", skipped, "stoppedEarly", "answerOutcome", "sweepId", "modelId", "promptId", seed`;

describe('cell ingestion through COPY', () => {
  let t: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    t = await freshDatabase('cell_ingest');
    pool = createIngestPool(t.url, 4);
  });
  after(async () => {
    await pool?.end();
    await t?.drop();
  });

  it('survives the death of a checked-out connection (PostgreSQL stopping mid-batch): no uncaught error, the pool reconnects', async () => {
    // Without a listener on the client itself, node-postgres's 'error' on a checked-out client
    // is an uncaught exception: it killed the worker when PostgreSQL stopped during a COPY.
    const own = createIngestPool(t.url, 2);
    try {
      const client = await own.connect();
      const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      await t.sql.query('SELECT pg_terminate_backend($1)', [pid]);
      const deadline = Date.now() + 10_000;
      while ((client as unknown as { _queryable: boolean })._queryable !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await assert.rejects(client.query('SELECT 1'), 'the dead connection refuses queries');
      client.release();
      assert.equal((await own.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool reconnects');
    } finally {
      await own.end();
    }
  });

  it('writes a batch once: a repeat adds nothing, an overlapping batch only its new keys', async () => {
    const id = await parents(t.sql, 1);
    const first = Array.from({ length: 500 }, (_, i) => row(`k${i}`));
    assert.equal(await copyCells(pool, id, first), 500);
    assert.equal(await copyCells(pool, id, first), 0, 'the same batch again');
    const overlap = Array.from({ length: 500 }, (_, i) => row(`k${i + 250}`));
    assert.equal(await copyCells(pool, id, overlap), 250, 'half of it was there');
    const n = await t.sql.query<{ n: number; keys: number }>(`SELECT count(*)::int AS n, count(DISTINCT "cellKey")::int AS keys FROM "Cell" WHERE "sweepId" = 's1'`);
    assert.deepEqual(n.rows[0], { n: 750, keys: 750 });
    // The pooled sessions are fine after a batch that fell back to the merge.
    assert.equal(await copyCells(pool, id, [row('after')]), 1);
  });

  it('never duplicates under concurrent writers of the same keys', async () => {
    const id = await parents(t.sql, 2);
    const batch = Array.from({ length: 2000 }, (_, i) => row(`c${i}`));
    const written = await Promise.all(Array.from({ length: 6 }, () => copyCells(pool, id, batch)));
    assert.equal(written.reduce((a, b) => a + b, 0), 2000, `written per writer: ${written.join(', ')}`);
    const n = await t.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Cell" WHERE "sweepId" = 's2'`);
    assert.equal(n.rows[0]!.n, 2000);
  });

  it('stores exactly the values the INSERT path stores, escaping included', async () => {
    const a = await parents(t.sql, 3);
    const b = await parents(t.sql, 4);
    const odd = [
      row('tab', { finalText: 'a\tb', finalAnswer: 'x\ty' }),
      row('newline', { finalText: 'line 1\nline 2\r\nline 3', partialText: null }),
      row('backslash', { finalText: 'C:\\path\\N', finalAnswer: '\\N' }),
      row('nulls', { variant: null, token: null, finalAnswer: null, finalText: null, partialText: '12<|mask|>', changedTokens: null, flipped: true, correct: false, stoppedEarly: true }),
      row('unicode', { finalText: 'Ġ→ é 😀 "quoted" \'single\'', span: 'answer', kind: 'probe', answerCommittedBefore: true, skipped: true }),
    ];
    assert.equal(await copyCells(pool, a, odd), odd.length);
    assert.equal(await insertCells(pool, b, odd), odd.length);
    const read = async (sweep: string) => (await t.sql.query(`SELECT ${COLUMNS} FROM "Cell" WHERE "sweepId" = $1 ORDER BY "cellKey"`, [sweep]))
      .rows.map((r: Record<string, unknown>): Record<string, unknown> => ({ ...r, sweepId: undefined, modelId: undefined, promptId: undefined }));
    const viaCopy = await read('s3');
    assert.deepEqual(viaCopy, await read('s4'));
    const byKey = Object.fromEntries(viaCopy.map((r) => [r['cellKey'], r]));
    assert.equal(byKey['tab']!['finalText'], 'a\tb');
    assert.equal(byKey['newline']!['finalText'], 'line 1\nline 2\r\nline 3');
    assert.equal(byKey['backslash']!['finalAnswer'], '\\N', 'the text \\N, not NULL');
    assert.equal(byKey['nulls']!['finalAnswer'], null);
    assert.equal(byKey['nulls']!['answerOutcome'], 'none');
    assert.equal(byKey['unicode']!['finalText'], 'Ġ→ é 😀 "quoted" \'single\'');
    // One line per row, whatever the text holds.
    assert.equal(copyLines(a, odd).split('\n').length, odd.length + 1);
  });

  it('refuses a cell without its work unit, and deletes cells with their sweep', async () => {
    const id = await parents(t.sql, 5);
    await assert.rejects(copyCells(pool, { ...id, workUnitId: 'no-such-unit' }, [row('orphan')]), /foreign key/);
    assert.equal(await copyCells(pool, id, [row('kept'), row('kept2')]), 2, 'the pool still works after a refused batch');
    await t.sql.query(`DELETE FROM "Sweep" WHERE id = 's5'`);
    const n = await t.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Cell" WHERE "sweepId" = 's5'`);
    assert.equal(n.rows[0]!.n, 0);
    // Since migration 20261215000000_cell_ingest_indexes the work-unit key is held by
    // statement-level triggers, not a FOREIGN KEY (a per-row look-up).
    const fks = await t.sql.query<{ name: string }>(`SELECT conname AS name FROM pg_constraint WHERE conrelid = '"Cell"'::regclass AND contype = 'f'`);
    assert.deepEqual(fks.rows, []);
  });

  it('holds the work-unit key per statement: INSERT, UPDATE, deleting one work unit, a unit id that cannot change', async () => {
    const a = await parents(t.sql, 6);
    await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w6b', 's6', 1, 'm6', 'p6', 1, now())`);
    const b = { ...a, workUnitId: 'w6b' };
    assert.equal(await copyCells(pool, a, [row('a1'), row('a2')]), 2);
    assert.equal(await copyCells(pool, b, [row('b1')]), 1);
    // The INSERT path (ON CONFLICT) and the merge path are checked too, and an error names the key.
    await assert.rejects(insertCells(pool, { ...a, workUnitId: 'gone' }, [row('x')]), (err: Error & { code?: string; detail?: string }) =>
      err.code === '23503' && /foreign key constraint "Cell_workUnitId_fkey"/.test(err.message) && /\(gone\)/.test(err.detail ?? ''));
    await assert.rejects(copyCells(pool, { ...a, workUnitId: 'gone' }, [row('a1'), row('x')]), /foreign key/, 'a batch that falls back to the merge');
    await assert.rejects(t.sql.query(`UPDATE "Cell" SET "workUnitId" = 'gone' WHERE "sweepId" = 's6' AND "cellKey" = 'a1'`), /foreign key/);
    await assert.rejects(t.sql.query(`UPDATE "WorkUnit" SET id = 'w6c' WHERE id = 'w6b'`), /cannot change/);
    // Deleting one work unit deletes its cells and no other.
    await t.sql.query(`DELETE FROM "WorkUnit" WHERE id = 'w6b'`);
    const left = await t.sql.query<{ k: string }>(`SELECT "cellKey" AS k FROM "Cell" WHERE "sweepId" = 's6' ORDER BY 1`);
    assert.deepEqual(left.rows.map((r) => r.k), ['a1', 'a2']);
  });
});

// The worker reads a work unit's stored cells (storedUnitCells) on servers whose default
// collation is not C: an ICU database, created here, where a `LIKE 'u3.%'` prefix cannot use the
// btree of ("sweepId", "cellKey") but equality probes can.
describe("a work unit's stored cells under a non-C collation", () => {
  const name = `t_icu_cells_${process.pid}`;
  let admin: pg.Client;
  let sql: pg.Client;
  before(async () => {
    const { databaseUrl } = await ensureTestStack();
    const at = (db: string): string => { const u = new URL(databaseUrl); u.pathname = `/${db}`; return u.toString(); };
    admin = new pg.Client({ connectionString: at('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`);
    sql = new pg.Client({ connectionString: at(name) });
    await sql.connect();
    await applyMigrations(sql, readMigrations(resolvePaths(process.env).migrationsDir), silentLogger);
  });
  after(async () => {
    await sql?.end();
    await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.end();
  });

  it('finds exactly the stored planned keys, through the unique index', async () => {
    const prov = await sql.query<{ p: string }>(`SELECT datlocprovider AS p FROM pg_database WHERE datname = current_database()`);
    assert.equal(prov.rows[0]!.p, 'i', 'the database collates with ICU');
    const id = await parents(sql, 7);
    await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w7b', 's7', 31, 'm7', 'p7', 1, now())`);
    const unit3 = Array.from({ length: 40 }, (_, i) => `u3.t${i}.p${i % 7}.remask`);
    // A neighbour whose keys share the text prefix "u3" (ordinal 31) and sort among them under ICU.
    assert.equal(await copyCells(sql, id, unit3.slice(0, 25).map((k) => row(k))), 25);
    assert.equal(await copyCells(sql, { ...id, workUnitId: 'w7b' }, unit3.map((k) => row(k.replace(/^u3\./, 'u31.')))), 40);
    // The rest of a sweep: 60 more work units of 100 cells each.
    for (let u = 100; u < 160; u++) {
      await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w7_${u}', 's7', ${u}, 'm7', 'p7', ${u}, now())`);
      assert.equal(await copyCells(sql, { ...id, workUnitId: `w7_${u}` }, Array.from({ length: 100 }, (_, i) => row(`u${u}.t${i}.p0.remask`))), 100);
    }
    await sql.query('ANALYZE "Cell"');
    const got = await storedUnitCells(sql, id, unit3);
    assert.deepEqual([...got].sort(), unit3.slice(0, 25).sort());

    const plan = async (q: string, params: unknown[]): Promise<string> =>
      (await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const probes = await plan(STORED_UNIT_CELLS_SQL.replace('$1', `'s7'`).replace('$2::text[]', `'{${unit3.join(',')}}'::text[]`).replace('$3', `'w7'`), []);
    assert.match(probes, /Index (Only )?Scan using "Cell_sweepId_cellKey_key"/, probes);
    assert.match(probes, /Index Cond: .*"cellKey" = ANY/, `the keys are index conditions:\n${probes}`);
    // What the worker read before: under ICU the prefix is only a filter on every cell of the sweep.
    const prefix = await plan(`SELECT "cellKey" FROM "Cell" WHERE "sweepId" = 's7' AND "cellKey" LIKE 'u3.%'`, []);
    assert.doesNotMatch(prefix, /Index Cond: .*"cellKey"/, prefix);
  });
});
