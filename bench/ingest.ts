// node --import tsx bench/ingest.ts [--rows N] [--writers W] [--batch B]
//
// The cell ingestion paths alone, on a PostgreSQL of its own (started here under a temporary
// home, every migration applied), and what each index of "Cell" costs them:
//
//   1. COPY (copyCells, what the worker uses; straight into "Cell", staged and merged when keys exist) against INSERT … unnest (insertCells),
//      W writers, batches of B, N rows per path, A B B A halves;
//   2. COPY again with each secondary index of "Cell" dropped in turn (and with all of
//      them dropped), and with the foreign keys dropped, each measured on a fresh table, as
//      PostgreSQL CPU µs per cell (wall-clock rates on a shared machine measure its load);
//   3. which index of "Cell" each result view uses for one sweep (EXPLAIN after ANALYZE).
//
// Prints one Markdown table; the figures depend on the machine and its load.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    writers: { type: 'string', default: '4' },
    batch: { type: 'string', default: '2000' },
  },
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
await applyMigrations(sql, readMigrations(paths.migrationsDir), silentLogger);
await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 's', '{}', 'h', now())`);
await sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'models/arith-cot', 'x', '{}')`);
await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('p', 'd', 0, '0653+1082=', '1735')`);
await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('w', 's', 0, 'm', 'p', 0, now())`);
const id: UnitIdentity = { sweepId: 's', workUnitId: 'w', modelId: 'm', promptId: 'p', seed: 0 };
const row = (k: number): CellRow => ({
  cellKey: `0000042.replace.random.${k % 40}.${Math.floor(k / 40)}`, step: k % 40, position: k % 37, kind: 'replace', variant: 'random', token: 5, span: 'cot',
  finalAnswer: '0123', finalText: '320>05;580>13;601>07;010>01|01735', partialText: null, flipped: k % 7 === 0, correct: true,
  answerCommittedBefore: false, changedTokens: 0, computeSteps: 10, skipped: false, stoppedEarly: false, durationMs: 120, noop: false,
});
const pool = createIngestPool(url, WRITERS);

let keyBase = 0;
/** CPU microseconds per cell of the last `rate` call: PostgreSQL (all its processes), this process. */
let lastCpu = { server: 0, client: 0 };
/** Writes n new rows with WRITERS concurrent writers; returns cells/s (wall clock). */
async function rate(write: typeof copyCells, n: number): Promise<number> {
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
      const w = await write(pool, id, Array.from({ length: Math.min(BATCH, n - from) }, (_, i) => row(base + from + i)));
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

// 2. Index cost: COPY + merge on an emptied table with each secondary index dropped in turn.
const secondary = (await sql.query<{ name: string; def: string }>(
  `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'Cell' AND indexname NOT IN ('Cell_pkey', 'Cell_sweepId_cellKey_key') ORDER BY 1`)).rows;
async function fresh(): Promise<number> {
  await sql.query('TRUNCATE "Cell"');
  await sql.query('VACUUM ANALYZE "Cell"');
  return rate(copyCells, ROWS / 2);
}
await fresh();
const all = lastCpu.server;
const cost = (what: string) => table.push([what, `${lastCpu.server.toFixed(1)} PostgreSQL CPU µs/cell (${(((lastCpu.server - all) / all) * 100).toFixed(0)} %)`]);
table.push(['COPY, every index (fresh table)', `${all.toFixed(1)} PostgreSQL CPU µs/cell`]);
for (const ix of secondary) {
  await sql.query(`DROP INDEX "${ix.name}"`);
  await fresh();
  cost(`… without ${ix.name}`);
  await sql.query(ix.def);
}
for (const ix of secondary) await sql.query(`DROP INDEX "${ix.name}"`);
await fresh();
cost('… without any secondary index (unique key and primary key only)');
for (const ix of secondary) await sql.query(ix.def);

// 3. Foreign-key cost: each FOREIGN KEY of "Cell" is a per-row trigger that looks its parent up.
const fks = (await sql.query<{ name: string; def: string }>(
  `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"Cell"'::regclass AND contype = 'f' ORDER BY 1`)).rows;
for (const fk of fks) await sql.query(`ALTER TABLE "Cell" DROP CONSTRAINT "${fk.name}"`);
await fresh();
cost(`… every index, no foreign key (${fks.map((f) => f.name).join(', ')} dropped)`);
for (const fk of fks) await sql.query(`ALTER TABLE "Cell" ADD CONSTRAINT "${fk.name}" ${fk.def}`);

// 4. Which indexes the views use: EXPLAIN of each view of the results (as `report` and
// `query` read them: one sweep), on this table of cells after ANALYZE.
await fresh();
await sql.query('ANALYZE');
const views = (await sql.query<{ name: string }>(
  `SELECT table_name AS name FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.name);
type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
const walk = (n: PlanNode, out: Set<string>) => {
  if (n['Index Name']) out.add(n['Index Name']);
  else if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'Cell') out.add('Seq Scan on Cell');
  for (const c of n.Plans ?? []) walk(c, out);
};
const usage: [string, string][] = [];
for (const v of views) {
  const r = await sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) SELECT * FROM ${v} WHERE sweep_id = 's'`);
  const used = new Set<string>();
  walk(r.rows[0]!['QUERY PLAN'][0].Plan, used);
  const onCell = [...used].filter((u) => u.startsWith('Cell') || u === 'Seq Scan on Cell');
  usage.push([v, onCell.length ? onCell.join(', ') : '(no access to Cell)']);
}

process.stdout.write(`\nbench:ingest — ${ROWS} rows per path, ${WRITERS} writers, batches of ${BATCH}\n\n| measure | value |\n| --- | --- |\n`);
for (const [k, v] of table) process.stdout.write(`| ${k} | ${v} |\n`);
process.stdout.write(`\nAccess to "Cell" of each view for one sweep (EXPLAIN after ANALYZE, ${ROWS / 2} cells):\n\n| view | Cell access |\n| --- | --- |\n`);
for (const [k, v] of usage) process.stdout.write(`| ${k} | ${v} |\n`);
await pool.end();
await sql.end();
await stack.down();
rmSync(home, { recursive: true, force: true });
