// npm run bench:ingest -- [--rows N] [--writers W] [--batch B]
//
// The cell ingestion paths alone, on a PostgreSQL of its own (started here under a temporary
// home, every migration applied), and what each index and trigger of "Cell" costs them:
//
//   1. COPY (copyCells, what the worker uses; straight into "Cell", staged and merged when keys
//      exist) against INSERT … unnest (insertCells), W writers, batches of B, N rows per path,
//      A B B A halves;
//   2. COPY into today's schema against COPY into the schema before migration
//      20261215000000_cell_ingest_indexes (three secondary indexes and a per-row foreign key),
//      a second database of the same cluster, A B B A, each on a fresh table;
//   3. COPY with each secondary index of "Cell" dropped in turn, and with the work-unit
//      triggers disabled, each on a fresh table, as PostgreSQL CPU µs per cell (wall-clock
//      rates on a shared machine measure its load);
//   4. which index of "Cell" each result view (and the worker's read of a work unit's cells)
//      uses for one sweep, with that sweep alone and among five sweeps (EXPLAIN after ANALYZE).
//
// Prints Markdown tables; the figures depend on the machine and its load.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { copyCells, createIngestPool, insertCells } from '../orchestrator/activities/cells.ts';
import type { CellRow, UnitIdentity } from '../orchestrator/activities/cells.ts';
import { resolvePaths } from '../common/config/paths.ts';
import { loadTools } from '../orchestrator/config/tools.ts';
import { applyMigrations, readMigrations } from '../orchestrator/db/migrate.ts';
import { createLocalStack } from '../orchestrator/dev/stack.ts';
import { silentLogger } from '../common/log.ts';
import { cpuMeter } from './cpu.ts';
import { contextFromEnv } from '../common/cli/context.ts';
import { benchArgs } from './args.ts';

const values = benchArgs('bench:ingest', [
  'The cell ingestion paths alone (COPY, INSERT), on a PostgreSQL started here, and what each',
  'index and trigger of "Cell" costs them.',
], {
  rows: { type: 'string', default: '200000', help: 'rows per path', number: { min: 1 } },
  writers: { type: 'string', default: '4', help: 'concurrent writers', number: { min: 1, max: 64 } },
  batch: { type: 'string', default: '2000', help: 'rows per statement', number: { min: 1 } },
});
const ROWS = Number(values.rows);
const WRITERS = Number(values.writers);
const BATCH = Number(values.batch);
const log = (m: string) => process.stderr.write(`bench:ingest: ${m}\n`);

const paths = resolvePaths(process.env);
const home = mkdtempSync(join(tmpdir(), 'faithsweep-bench-ingest-'));
chmodSync(home, 0o755);
writeFileSync(join(home, 'tools.json'), readFileSync(join(paths.home, 'tools.json')));
const stack = await createLocalStack({ home, cacheDir: paths.cacheDir, tools: loadTools(home, contextFromEnv(process.env).tools), external: {}, services: ['postgres'] });
log(`starting PostgreSQL under ${home}…`);
await stack.up();
const url = stack.endpoints.databaseUrl;
const sql = new pg.Client({ connectionString: url });
await sql.connect();
/** Migrates a database (all migrations, or those before `before`) and adds one sweep's parents. */
async function prepare(c: pg.Client, before?: string): Promise<void> {
  await applyMigrations(c, readMigrations(paths.migrationsDir).filter((m) => !before || m.name < before), silentLogger);
  await c.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 's', '{}', 'h', now())`);
  await c.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'models/arith-cot', 'x', '{}')`);
  await c.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p', 'd', 0, '0653+1082=', '1735')`);
  await c.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w', 's', 0, 'm', 'p', 0, now())`);
}
await prepare(sql);
const BEFORE = '20261215000000_cell_ingest_indexes';
await sql.query('CREATE DATABASE before_indexes');
const beforeUrl = new URL(url);
beforeUrl.pathname = '/before_indexes';
const sqlBefore = new pg.Client({ connectionString: beforeUrl.toString() });
await sqlBefore.connect();
await prepare(sqlBefore, BEFORE);
const poolBefore = createIngestPool(beforeUrl.toString(), WRITERS);
const id: UnitIdentity = { sweepId: 's', workUnitId: 'w', modelId: 'm', promptId: 'p', seed: 0 };
// Keys as the worker writes them (orchestrator/sweep/plan.ts sweepCellKey): `u<ordinal>.<cell>`.
const row = (k: number): CellRow => ({
  cellKey: `u0.replace.random.${k % 40}.${Math.floor(k / 40)}`, step: k % 40, position: k % 37, kind: 'replace', variant: 'random', token: 5, span: 'cot',
  finalAnswer: '0123', finalText: '320>05;580>13;601>07;010>01|01735', partialText: null, flipped: k % 7 === 0, correct: true,
  answerCommittedBefore: false, changedTokens: 0, computeSteps: 10, skipped: false, stoppedEarly: false, durationMs: 120, noop: false,
});
const pool = createIngestPool(url, WRITERS);

let keyBase = 0;
/** CPU microseconds per cell of the last `rate` call: PostgreSQL (all its processes), this process. */
let lastCpu = { server: 0, client: 0 };
/** Writes n new rows with WRITERS concurrent writers; returns cells/s (wall clock). */
async function rate(write: typeof copyCells, n: number, into = pool): Promise<number> {
  const meter = cpuMeter(join(home, 'pg'));
  const base = keyBase;
  keyBase += n;
  let next = 0;
  let written = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < n) {
      const from = next;
      next += BATCH;
      const w = await write(into, id, Array.from({ length: Math.min(BATCH, n - from) }, (_, i) => row(base + from + i)));
      written += w;
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  if (written !== n) throw new Error(`wrote ${written} of ${n} rows`);
  const cpu = meter();
  lastCpu = { server: (cpu.server / n) * 1e6, client: (cpu.client / n) * 1e6 };
  return n / wall;
}

const table: [string, string][] = [];
// 1. The two paths, A B B A.
const got = { copy: [] as number[], insert: [] as number[] };
const cpuOf = { copy: [] as number[], insert: [] as number[], copyServer: [] as number[], insertServer: [] as number[] };
for (const p of ['insert', 'copy', 'copy', 'insert'] as const) {
  got[p].push(await rate(p === 'copy' ? copyCells : insertCells, ROWS / 2));
  cpuOf[p].push(lastCpu.server + lastCpu.client);
  cpuOf[`${p}Server`].push(lastCpu.server);
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuLine = (p: 'copy' | 'insert') =>
  `${mean(got[p]).toFixed(0)} cells/s wall; ${mean(cpuOf[p]).toFixed(1)} CPU µs/cell (PostgreSQL ${mean(cpuOf[`${p}Server`]).toFixed(1)}) = ${(1e6 / mean(cpuOf[p])).toFixed(0)} cells per CPU-second`;
table.push(['COPY (copyCells)', cpuLine('copy')]);
table.push(['INSERT … unnest (insertCells)', cpuLine('insert')]);
table.push(['ratio COPY / INSERT', `${(mean(got.copy) / mean(got.insert)).toFixed(2)} wall, ${(mean(cpuOf.insert) / mean(cpuOf.copy)).toFixed(2)} CPU`]);

// 2. Today's schema against the one before migration 20261215000000_cell_ingest_indexes, A B B A.
async function fresh(c: pg.Client = sql, into = pool): Promise<number> {
  await c.query('TRUNCATE "Cell"');
  await c.query('VACUUM ANALYZE "Cell"');
  await c.query('CHECKPOINT');
  return rate(copyCells, ROWS / 2, into);
}
const schemas = { now: { wall: [] as number[], server: [] as number[], client: [] as number[] }, before: { wall: [] as number[], server: [] as number[], client: [] as number[] } };
for (const which of ['before', 'now', 'now', 'before'] as const) {
  schemas[which].wall.push(which === 'now' ? await fresh() : await fresh(sqlBefore, poolBefore));
  schemas[which].server.push(lastCpu.server);
  schemas[which].client.push(lastCpu.client);
}
const schemaLine = (w: 'now' | 'before') => {
  const total = mean(schemas[w].server) + mean(schemas[w].client);
  return `${mean(schemas[w].wall).toFixed(0)} cells/s wall; ${total.toFixed(1)} CPU µs/cell (PostgreSQL ${mean(schemas[w].server).toFixed(1)}, this process ${mean(schemas[w].client).toFixed(1)}) = ${(1e6 / total).toFixed(0)} cells per CPU-second`;
};
table.push([`COPY, schema before ${BEFORE} (fresh table)`, schemaLine('before')]);
table.push(['COPY, today\'s schema (fresh table)', schemaLine('now')]);
table.push(['PostgreSQL CPU per cell, today / before', `${(mean(schemas.now.server) / mean(schemas.before.server)).toFixed(2)}`]);
await poolBefore.end();
await sqlBefore.end();

// 3. Index and trigger cost on today's schema: COPY on an emptied table with each secondary
// index dropped in turn, and with the work-unit check (a statement-level trigger) disabled.
const secondary = (await sql.query<{ name: string; def: string }>(
  `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'Cell' AND indexname NOT IN ('Cell_pkey', 'Cell_sweepId_cellKey_key') ORDER BY 1`)).rows;
await fresh();
const all = lastCpu.server;
const cost = (what: string) => table.push([what, `${lastCpu.server.toFixed(1)} PostgreSQL CPU µs/cell (${(((lastCpu.server - all) / all) * 100).toFixed(0)} %)`]);
table.push(['COPY, every index and trigger (fresh table)', `${all.toFixed(1)} PostgreSQL CPU µs/cell`]);
for (const ix of secondary) {
  await sql.query(`DROP INDEX "${ix.name}"`);
  await fresh();
  cost(`… without ${ix.name}`);
  await sql.query(ix.def);
}
await sql.query('ALTER TABLE "Cell" DISABLE TRIGGER cell_work_unit_exists_insert');
await fresh();
cost('… without the work-unit check (trigger cell_work_unit_exists_insert disabled)');
await sql.query('ALTER TABLE "Cell" ENABLE TRIGGER cell_work_unit_exists_insert');

// 4. Which indexes the views use: EXPLAIN of each view of the results (as `report` and
// `query` read them: one sweep), and of the worker's read of a work unit's cells, after
// ANALYZE: first with the sweep alone in "Cell", then with four more sweeps of as many cells.
await fresh();
type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
const walk = (n: PlanNode, out: Set<string>) => {
  if (n['Index Name']) out.add(n['Index Name']);
  else if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'Cell') out.add('Seq Scan on Cell');
  for (const c of n.Plans ?? []) walk(c, out);
};
const views = (await sql.query<{ name: string }>(
  `SELECT v.table_name AS name FROM information_schema.views v
   WHERE v.table_schema = 'public' AND EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = v.table_name AND c.column_name = 'sweep_id')
   ORDER BY 1`)).rows.map((r) => r.name);
const queries: [string, string][] = [
  ...views.map((v): [string, string] => [v, `SELECT * FROM ${v} WHERE sweep_id = 's'`]),
  ['(worker) a work unit\'s cell keys', `SELECT "cellKey" FROM "Cell" WHERE "sweepId" = 's' AND "cellKey" LIKE 'u0.%' AND "workUnitId" = 'w'`],
];
async function access(): Promise<string[]> {
  await sql.query('ANALYZE');
  const out: string[] = [];
  for (const [, q] of queries) {
    const r = await sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${q}`);
    const used = new Set<string>();
    walk(r.rows[0]!['QUERY PLAN'][0].Plan, used);
    const onCell = [...used].filter((u) => u.startsWith('Cell') || u === 'Seq Scan on Cell');
    out.push(onCell.length ? onCell.join(', ') : '(no access to Cell)');
  }
  return out;
}
const alone = await access();
for (const other of ['o1', 'o2', 'o3', 'o4']) {
  await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('${other}', '${other}', '{}', 'h', now())`);
  await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w${other}', '${other}', 0, 'm', 'p', 0, now())`);
  await sql.query(`INSERT INTO "Cell" ("sweepId", "workUnitId", "modelId", "promptId", seed, "cellKey", step, position, kind, variant, token, span, "finalAnswer", "finalText", "partialText", flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps", skipped, "stoppedEarly", "durationMs", noop)
    SELECT '${other}', 'w${other}', "modelId", "promptId", seed, "cellKey", step, position, kind, variant, token, span, "finalAnswer", "finalText", "partialText", flipped, correct, "answerCommittedBefore", "changedTokens", "computeSteps", skipped, "stoppedEarly", "durationMs", noop FROM "Cell" WHERE "sweepId" = 's'`);
}
const amongFive = await access();
const usage = queries.map(([name], i): [string, string, string] => [name, alone[i]!, amongFive[i]!]);

process.stdout.write(`\nbench:ingest — ${ROWS} rows per path, ${WRITERS} writers, batches of ${BATCH}\n\n| measure | value |\n| --- | --- |\n`);
for (const [k, v] of table) process.stdout.write(`| ${k} | ${v} |\n`);
process.stdout.write(`\nAccess to "Cell" for one sweep of ${ROWS / 2} cells (EXPLAIN after ANALYZE):\n\n| view | that sweep alone | among five sweeps |\n| --- | --- | --- |\n`);
for (const [k, a, b] of usage) process.stdout.write(`| ${k} | ${a} | ${b} |\n`);
await pool.end();
await sql.end();
await stack.down();
rmSync(home, { recursive: true, force: true });
