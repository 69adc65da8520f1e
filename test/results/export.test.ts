// `faithsweep export`: cells joined with trajectory, model and prompt columns, as CSV and as
// Parquet read back by an independent reader (pyarrow, set up by scripts/setup in the user
// cache), streamed in bounded row groups.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { exportSweep } from '../../orchestrator/results/export.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';
import { cli } from './cli.ts';

const PYTHON = join(resolvePaths(process.env).cacheDir, 'pyenv', 'bin', 'python');
const BULK = 10_000;

interface ParquetFacts {
  rows: number;
  row_groups: number;
  columns: string[];
  types: Record<string, string>;
  sum_cell_id: number;
  sum_step: number;
  sum_position: number;
  flipped: number;
  null_variant: number;
  keys_sha256: string;
  first: Record<string, unknown> | null;
}

function readParquet(path: string): ParquetFacts {
  assert.ok(existsSync(PYTHON), `pyarrow venv missing at ${PYTHON}: run scripts/setup (it creates it)`);
  const r = spawnSync(PYTHON, [join(import.meta.dirname, 'read_parquet.py'), path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ParquetFacts;
}

describe('faithsweep export', () => {
  let t: TestDatabase;
  let dir: string;
  const expected = async (sweepId: string) => {
    const r = (await t.sql.query(`SELECT count(*)::int AS rows, sum(id)::float8 AS sum_id, sum(step)::int AS sum_step, sum(position)::int AS sum_position,
        (count(*) FILTER (WHERE flipped))::int AS flipped, string_agg("cellKey", E'\\n' ORDER BY id) AS keys FROM "Cell" WHERE "sweepId" = $1`, [sweepId])).rows[0];
    return { ...r, keys_sha256: createHash('sha256').update(r.keys ?? '').digest('hex') };
  };

  before(async () => {
    t = await freshDatabase('results_export');
    await insertFixtureSweep(t.sql);
    // A larger sweep for streaming: one work unit with BULK cells.
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('sw_bulk', 'bulk', '{}', 'h', now())`);
    await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('wu_bulk', 'sw_bulk', 0, 'm_a', 'p0', 0, now())`);
    await t.sql.query(`INSERT INTO "Trajectory" (id, "workUnitId", "sweepId", "modelId", "promptId", seed, "genLength", steps, "blockLength", remasking, temperature, "promptLength", "commitStep", tokens, "finalText", answer, correct)
      VALUES ('tr_bulk', 'wu_bulk', 'sw_bulk', 'm_a', 'p0', 0, 6, 4, 6, 'low_confidence', 0, 10, '{0,1,2,3,0,1}', '{4,5,6,17,7,9}', '123|46', '46', true)`);
    await t.sql.query(`INSERT INTO "Cell" ("sweepId", "cellKey", "workUnitId", "modelId", "promptId", seed, step, position, kind, span, flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps", "finalText")
      SELECT 'sw_bulk', 'k' || i, 'wu_bulk', 'm_a', 'p0', 0, i % 4, i % 6, 'replace', 'cot', i % 3 = 0, true, false, 0, 1, 'text, "quoted"' FROM generate_series(1, ${BULK}) i`);
    dir = mkdtempSync(join(tmpdir(), 'fs-export-'));
  });
  after(async () => {
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes Parquet that pyarrow reads back with the same row count and column checksums', async () => {
    const out = join(dir, 'fixture.parquet');
    const r = cli(t.url, 'export', FIXTURE_SWEEP.name, '--format', 'parquet', '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { rows: number; columns: number };
    assert.equal(summary.rows, 37);
    const facts = readParquet(out);
    const want = await expected(FIXTURE_SWEEP.id);
    assert.equal(facts.rows, 37);
    assert.equal(facts.sum_cell_id, want.sum_id);
    assert.equal(facts.sum_step, want.sum_step);
    assert.equal(facts.sum_position, want.sum_position);
    assert.equal(facts.flipped, want.flipped);
    assert.equal(facts.keys_sha256, want.keys_sha256);
    assert.equal(facts.null_variant, 16 + 2, 'probes and remask cells have no variant');
    for (const c of ['cell_id', 'model_name', 'prompt_text', 'gold_answer', 'total_steps', 'step_frac', 'clean_final_text', 'answer_commit_step', 'final_text']) assert.ok(facts.columns.includes(c), c);
    assert.equal(facts.types['cell_id'], 'int64');
    assert.equal(facts.types['flipped'], 'bool');
    assert.equal(facts.types['step_frac'], 'double');
    // The first cell (c1) with its joined context.
    const first = facts.first!;
    assert.equal(first['model_name'], 'arith-cot');
    assert.equal(first['prompt_text'], '0012+0034=');
    assert.equal(first['clean_final_text'], '123|46');
    assert.equal(first['final_text'], '923|96');
    assert.equal(first['total_steps'], 4);
    assert.equal(first['answer_commit_step'], 1);
  });

  it('exports the sampler settings every cell ran with, as sweeps store them (none NULL)', () => {
    // The fixture's trajectories are written by the sweep activity's own insertTrajectory with
    // the plan's resolved sampler; the export once read a spelling sweeps never wrote.
    const out = join(dir, 'sampler.csv');
    const r = cli(t.url, 'export', FIXTURE_SWEEP.name, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...lines] = readFileSync(out, 'utf8').trimEnd().split('\n');
    const cols = header!.split(',');
    const at = (name: string) => cols.indexOf(name);
    for (const name of ['gen_length', 'block_length', 'total_steps', 'remasking', 'temperature']) assert.ok(at(name) >= 0, name);
    const values = new Set(lines.map((l) => ['gen_length', 'block_length', 'total_steps', 'remasking', 'temperature'].map((c) => l.split(',')[at(c)]).join('/')));
    assert.deepEqual([...values], ['6/6/4/low_confidence/0'], 'every exported cell carries gen_length 6, block_length 6, steps 4, low_confidence, temperature 0');
  });

  it('streams: a 10 000-cell sweep goes out in bounded row groups, never all rows in memory', async () => {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      const out = join(dir, 'bulk.parquet');
      const r = await exportSweep(client, 'sw_bulk', { format: 'parquet', out, batchSize: 500, rowGroupSize: 2000 });
      assert.equal(r.rows, BULK);
      assert.equal(r.rowGroups, 5);
      assert.ok(r.maxBufferedRows <= 2000, `held at most one row group (${r.maxBufferedRows})`);
      const facts = readParquet(out);
      assert.equal(facts.rows, BULK);
      assert.equal(facts.row_groups, 5);
      const want = await expected('sw_bulk');
      assert.equal(facts.keys_sha256, want.keys_sha256);
      assert.equal(facts.flipped, Math.floor(BULK / 3));
      const csv = join(dir, 'bulk.csv');
      const c = await exportSweep(client, 'sw_bulk', { format: 'csv', out: csv, batchSize: 500 });
      assert.equal(c.maxBufferedRows, 500);
      const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, BULK + 1);
      assert.match(lines[1]!, /,"text, ""quoted""",/, 'CSV quotes fields with commas and quotes');
    } finally {
      await client.end();
    }
  });

  it('writes CSV with a header of the same columns', () => {
    const out = join(dir, 'fixture.csv');
    const r = cli(t.url, 'export', FIXTURE_SWEEP.id, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exported 37 cells of sweep fixture-sweep/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 38);
    assert.ok(lines[0]!.startsWith('cell_id,sweep_id,cell_key,work_unit_id,model_id,model_name,'));
  });

  it('fails with coded errors and writes nothing for an unknown sweep, a missing folder or a bad format', () => {
    const before = readdirSync(dir).sort();
    const unknown = cli(t.url, 'export', 'no-such-sweep', '--format', 'csv', '--out', join(dir, 'x.csv'));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error\[SWEEP_NOT_FOUND\]: no sweep named or with id 'no-such-sweep'\n {2}hint: existing sweeps include: /);
    const folder = cli(t.url, 'export', FIXTURE_SWEEP.name, '--format', 'csv', '--out', join(dir, 'missing', 'x.csv'));
    assert.equal(folder.code, 2, 'refused before the database is read');
    assert.match(folder.stderr, /^error\[BAD_ARGS\]: --out .*x\.csv: the directory .*missing does not exist/);
    const format = cli(t.url, 'export', FIXTURE_SWEEP.name, '--format', 'xlsx', '--out', join(dir, 'x.xlsx'));
    assert.equal(format.code, 2);
    assert.match(format.stderr, /^error\[BAD_ARGS\]: --format must be csv or parquet/);
    assert.deepEqual(readdirSync(dir).sort(), before);
  });
});
