// `faithsweep query`: aligned table, CSV and JSON output; writes fail with a clear error and
// change nothing; one statement per call; a statement timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';
import { cli } from './cli.ts';
import pg from 'pg';
import { READER_ROLE, readerUrl } from '../../orchestrator/results/connect.ts';

const COT_PRE = `SELECT model_name, n, flips, flip_rate FROM flip_rate_by_span WHERE sweep_name = '${FIXTURE_SWEEP.name}' AND kind = 'all' AND span = 'cot' AND phase = 'pre_commit' ORDER BY model_name`;

describe('faithsweep query', () => {
  let t: TestDatabase;
  const cellCount = async () => Number((await t.sql.query('SELECT count(*) AS n FROM "Cell"')).rows[0].n);

  before(async () => {
    t = await freshDatabase('results_query');
    await insertFixtureSweep(t.sql);
  });
  after(async () => {
    await t?.drop();
  });

  it('prints an aligned table with numbers right-aligned and a row count', () => {
    const r = cli(t.url, 'query', COT_PRE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      ' model_name          | n | flips | flip_rate',
      '---------------------+---+-------+-------------------',
      ' arith-cot           | 7 |     5 | 0.7142857142857143',
      ' arith-cot-decoupled | 4 |     1 |               0.25',
      '(2 rows)',
    ]);
  });

  it('prints CSV with --csv and JSON (numbers as numbers) with --json', () => {
    const csv = cli(t.url, 'query', '--csv', COT_PRE);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, 'model_name,n,flips,flip_rate\narith-cot,7,5,0.7142857142857143\narith-cot-decoupled,4,1,0.25\n');
    const json = cli(t.url, 'query', '--json', `SELECT sweep_name, models, cells, flip_rate FROM sweep_summary`);
    assert.equal(json.code, 0, json.stderr);
    // flip_rate leaves the fixture's one no-op (c3) out: 9 flips of 20 counted interventions.
    assert.deepEqual(JSON.parse(json.stdout), [{ sweep_name: FIXTURE_SWEEP.name, models: ['arith-cot', 'arith-cot-decoupled'], cells: 37, flip_rate: 9 / 20 }]);
    const none = cli(t.url, 'query', '--json', `SELECT 1 AS x WHERE false`);
    assert.deepEqual(JSON.parse(none.stdout), []);
  });

  it('refuses DELETE FROM "Cell" with a coded error and leaves every row in place', async () => {
    assert.equal(await cellCount(), 37);
    const r = cli(t.url, 'query', 'DELETE FROM "Cell"');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error\[QUERY_READ_ONLY\]: the query tried to write, and nothing was changed: cannot execute DELETE in a read-only transaction/);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
    assert.equal(await cellCount(), 37);
  });

  it('refuses DROP, INSERT, a writing CTE and a write smuggled after a second statement', async () => {
    const attempts: [string, RegExp][] = [
      ['DROP VIEW sweep_summary', /QUERY_READ_ONLY.*DROP VIEW/],
      [`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('x', 'd', 9, 't', 'g')`, /QUERY_READ_ONLY.*INSERT/],
      ['WITH d AS (DELETE FROM "Cell" RETURNING 1) SELECT count(*) FROM d', /QUERY_READ_ONLY/],
      ['SELECT 1; COMMIT; DELETE FROM "Cell"', /QUERY_FAILED.*more than one statement/],
      [`COPY "Cell" TO '/tmp/cells.csv'`, /QUERY_READ_ONLY.*COPY/],
    ];
    for (const [sql, expected] of attempts) {
      const r = cli(t.url, 'query', sql);
      assert.notEqual(r.code, 0, sql);
      assert.match(r.stderr.split('\n')[0]!, expected, sql);
    }
    assert.equal(await cellCount(), 37);
    assert.equal(Number((await t.sql.query(`SELECT count(*) AS n FROM "Prompt"`)).rows[0].n), 3);
    assert.ok((await t.sql.query(`SELECT to_regclass('sweep_summary') AS v`)).rows[0].v, 'the view is still there');
  });

  it('runs as a read-only role that cannot read server files, signal other backends, or write at all', async () => {
    const who = cli(t.url, 'query', '--json', 'SELECT current_user AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user');
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual(JSON.parse(who.stdout), [{ role: READER_ROLE, superuser: false }]);
    const victim = Number((await t.sql.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const attempts: [string, RegExp][] = [
      [`SELECT pg_read_file('/etc/hostname')`, /QUERY_FAILED.*permission denied/],
      [`SELECT lo_import('/etc/hostname')`, /permission denied|read-only/],
      [`SELECT pg_cancel_backend(${victim})`, /QUERY_FAILED.*(permission denied|must be a superuser)/],
      [`SELECT pg_terminate_backend(${victim})`, /QUERY_FAILED.*(permission denied|must be a superuser)/],
    ];
    for (const [sql, expected] of attempts) {
      const r = cli(t.url, 'query', sql);
      assert.notEqual(r.code, 0, sql);
      assert.match(r.stderr.split('\n')[0]!, expected, sql);
    }
    assert.equal(Number((await t.sql.query('SELECT count(*) AS n FROM pg_largeobject_metadata')).rows[0].n), 0, 'no large object was created');
    assert.equal((await t.sql.query('SELECT 1 AS alive')).rows[0].alive, 1, 'the other session was not terminated');

    // The role itself holds only SELECT: even in a transaction it declares read-write, a write fails.
    const reader = new pg.Client({ connectionString: readerUrl(t.url) });
    await reader.connect();
    try {
      await reader.query('BEGIN TRANSACTION READ WRITE');
      await assert.rejects(reader.query('DELETE FROM "Cell"'), /permission denied for table Cell/);
      await reader.query('ROLLBACK');
      await assert.rejects(reader.query(`UPDATE "Sweep" SET status = 'x'`), /permission denied for table Sweep/);
    } finally {
      await reader.end();
    }
    assert.equal(await cellCount(), 37);
  });

  it('cancels a statement past --timeout', () => {
    const r = cli(t.url, 'query', '--timeout', '0.3', 'SELECT pg_sleep(5)');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[QUERY_TIMEOUT\]: the query ran past the time limit of 300 ms/);
  });

  it('keeps the time limit when the query switches statement_timeout off, across fetches', () => {
    // The first fetch (1,000 rows) sets statement_timeout to 0; the second sleeps 60 s.
    const started = Date.now();
    const r = cli(t.url, 'query', '--timeout', '1', '--csv',
      `SELECT CASE WHEN g <= 1000 THEN set_config('statement_timeout', '0', true) ELSE pg_sleep(60)::text END AS x FROM generate_series(1, 1001) g`);
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[QUERY_TIMEOUT\]: the query ran past the time limit of 1000 ms/);
    assert.ok(took < 30_000, `stopped after ${took} ms, long before the 60 s sleep ended`);
  });

  it('refuses COPY behind comments as PostgreSQL reads them (a line comment ended by a carriage return, nested block comments)', () => {
    for (const sqlText of ['-- x\rCOPY (SELECT 1) TO STDOUT', '/* a /* b */ c */ COPY (SELECT 1) TO STDOUT', '  --x\n/**/copy (select 1) to stdout']) {
      const r = cli(t.url, 'query', sqlText);
      assert.equal(r.code, 1, JSON.stringify(sqlText));
      assert.match(r.stderr, /^error\[QUERY_READ_ONLY\]: COPY is not run by faithsweep query/, JSON.stringify(sqlText));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it("cannot signal another session of the reader role (pg_cancel_backend, pg_terminate_backend)", async () => {
    const other = new pg.Client({ connectionString: readerUrl(t.url) });
    await other.connect();
    try {
      const pid = Number((await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      for (const fn of ['pg_cancel_backend', 'pg_terminate_backend']) {
        const r = cli(t.url, 'query', `SELECT ${fn}(${pid})`);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, new RegExp(`^error\\[QUERY_FAILED\\]: .*permission denied for function ${fn}`));
      }
      assert.equal((await other.query('SELECT 1 AS alive')).rows[0].alive, 1, 'the other reader session is alive');
    } finally {
      await other.end();
    }
  });

  it('refuses a result with two columns of the same name instead of printing one value twice', () => {
    for (const sqlText of ['SELECT 1, 2', 'SELECT 1 AS a, 2 AS a']) {
      const r = cli(t.url, 'query', '--json', sqlText);
      assert.notEqual(r.code, 0, sqlText);
      // --json: stdout holds only the error object; the one-line message is on stderr.
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'QUERY_FAILED');
      assert.match(r.stderr, /^error\[QUERY_FAILED\]: the result has more than one column named '(\?column\?|a)'/);
      assert.match(r.stderr, /hint: give each column its own name with AS/);
    }
  });

  it('reports SQL errors and bad flags as coded one-line errors', () => {
    const bad = cli(t.url, 'query', 'SELECT nope FROM sweep_summary');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error\[QUERY_FAILED\]: the query failed: column "nope" does not exist/);
    const both = cli(t.url, 'query', '--csv', '--json', 'SELECT 1');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error\[BAD_ARGS\]/);
    for (const [timeout, why] of [['3000000', 'past the int4 milliseconds of statement_timeout'], ['0x10', 'not decimal'], ['0', 'zero'], ['SELECT 1', 'the SQL taken as the flag value']]) {
      const r = cli(t.url, 'query', '--timeout', timeout!, 'SELECT 1');
      assert.equal(r.code, 2, why);
      assert.match(r.stderr, /^error\[BAD_ARGS\]: --timeout must be a number of seconds from 0\.001 to 2147483 \(got '/, why);
    }
    assert.equal(cli(t.url, 'query', '--help').code, 0);
  });
});
