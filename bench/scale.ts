// npm run bench:scale — the orchestrator at scale, against simulated agents.
//
// A sweep of --cells cells (default 1,000,000) runs on the real stack (PostgreSQL, NATS,
// Temporal dev server, all started here under a temporary home) and a real worker process,
// against --agents simulated agents: the real agent gRPC server and NATS registration with
// an engine that does no inference but sleeps --step-ms per forward pass (clean run T
// passes, then T passes per batch of 64 branches) and streams a result per cell. What is
// measured is the orchestrator: scheduling, leasing, streaming, ingestion, workflow history.
//
// Printed: wall time vs the simulated compute time (overhead ratio = wall / (compute /
// agents), target <= 1.10), work units/s, cells/s ingested during the sweep, the ingestion
// paths' own capacity (COPY + merge, which the worker uses, against the older batched INSERT,
// 4 writers each, measured right after in the same run, as a ratio), the largest workflow
// history in events, and the worker's peak RSS.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import type { GroupDone, LoadedModel, RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome } from '../generated/proto/faithsweep/v1/agent.ts';
import type { GroupEngine, RunGroupOptions } from '../node-agent/engine/engine.ts';
import { createRegistration, openAgentsBucket } from '../node-agent/registry/index.ts';
import { createAgentServer } from '../node-agent/server/index.ts';
import { REPO_ROOT, resolvePaths } from '../common/config/paths.ts';
import { loadTools } from '../orchestrator/config/tools.ts';
import { createLocalStack } from '../orchestrator/dev/stack.ts';
import { applyMigrations, readMigrations } from '../orchestrator/db/migrate.ts';
import { silentLogger } from '../common/log.ts';
import { copyCells, createIngestPool, insertCells } from '../orchestrator/activities/cells.ts';
import type { CellRow } from '../orchestrator/activities/cells.ts';
import { temporalClient } from '../orchestrator/cli/commands/services.ts';
import { cpuMeter } from './cpu.ts';
import { benchArgs } from './args.ts';
import { contextFromEnv } from '../common/cli/context.ts';

const values = benchArgs('bench:scale', [
  'The orchestrator at scale against simulated agents, on a stack started here: the overhead',
  'ratio (wall / ideal), where the rest goes, and COPY against INSERT ingestion in the same run.',
], {
  cells: { type: 'string', default: '1000000', help: 'cells in the sweep', number: { min: 400 } },
  agents: { type: 'string', default: '32', help: 'simulated agents', number: { min: 1, max: 1024 } },
  'step-ms': { type: 'string', default: '5', help: 'simulated milliseconds per forward pass', number: { min: 0, max: 10_000 } },
  window: { type: 'string', default: '64', help: 'running work units per shard', number: { min: 1, max: 1000 } },
  'keep-home': { type: 'boolean', default: false, help: 'keep the temporary stack home afterwards' },
  'worker-prof': { type: 'string', help: 'folder for a CPU profile of the worker (node --cpu-prof)' },
  'ingest-rows': { type: 'string', default: '400000', help: 'rows per ingestion path in the COPY/INSERT comparison', number: { min: 2000 } },
});
const CELLS = Number(values.cells);
const AGENTS = Number(values.agents);
const STEP_MS = Number(values['step-ms']);
const WINDOW = Number(values.window);
const PER_UNIT = 400; // positions 0-39 x steps every 4 (10) x replace
const UNITS = Math.ceil(CELLS / PER_UNIT);
const MAX_BATCH = 64;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`bench:scale: ${m}\n`);

const paths = resolvePaths(process.env);
const card = JSON.parse(readFileSync(join(paths.modelsDir, 'arith-cot', 'model.json'), 'utf8')) as { sha256: string };
const MODEL: LoadedModel = { name: 'arith-cot', sha256: card.sha256, cardJson: '{}', fusedTopk: false };

let simulatedMs = 0;
/** Per simulated agent, each RunGroup's [start, end] in this process's performance.now() ms. */
const groupSpans: [number, number][][] = [];
/** An engine that sleeps instead of computing; records when each group ran on agent `agent`. */
function simulatedEngine(agent: number): GroupEngine {
  const spans: [number, number][] = [];
  groupSpans[agent] = spans;
  return {
    models: () => [MODEL],
    async runGroup(req: RunGroupRequest, opts: RunGroupOptions): Promise<GroupDone> {
      const span: [number, number] = [performance.now(), 0];
      spans.push(span);
      try {
        return await simulateGroup(req, opts);
      } finally {
        span[1] = performance.now();
      }
    },
  };
}

/** One group: T sleeps of --step-ms for the clean run, then T per batch of 64 branches, streaming a result per cell. */
async function simulateGroup(req: RunGroupRequest, { signal, emit }: RunGroupOptions): Promise<GroupDone> {
  const T = req.sampler?.steps || 40;
  const gen = req.sampler?.genLength || 40;
  const t0 = performance.now();
  const wait = async (ms: number) => {
    simulatedMs += ms;
    await sleep(ms);
    if (signal.aborted) throw signal.reason;
  };
  await wait(T * STEP_MS);
  const tokens = Array.from({ length: gen }, (_, i) => 3 + (i % 10));
  const text = tokens.map((t) => String(t - 3)).join('');
  emit({ event: { $case: 'trajectory', value: { promptIds: [3, 4, 5], tokens, commitStep: tokens.map((_, i) => i), text, answer: '0123', correct: true, filmStrip: [], commitMargin: [], paraphraseEvents: [], computeSteps: T, cotSpan: { start: 0, end: 27 }, answerSpan: { start: 28, end: 33 }, answerCommitStep: 33, cotCommitStep: 27 } } });
  for (let i = 0; i < req.interventions.length; i += MAX_BATCH) {
    await wait(T * STEP_MS);
    for (const iv of req.interventions.slice(i, i + MAX_BATCH)) {
      const flipped = (iv.position + iv.step) % 7 === 0;
      emit({ event: { $case: 'result', value: { key: iv.key, answer: flipped ? '0124' : '0123', text, flipped, correct: !flipped, answerCommittedBefore: iv.step > 33, positionCommittedBefore: iv.step > iv.position, token: 5, changedTokens: flipped ? 1 : 0, computeSteps: T - iv.step, skipped: false, tokens: [], stoppedEarly: false, textPartial: false, outcome: flipped ? AnswerOutcome.ANSWER_CHANGED : AnswerOutcome.ANSWER_SAME } } });
    }
  }
  return { forwardPasses: T, branchSteps: req.interventions.length, wallMs: performance.now() - t0 };
}

const home = mkdtempSync(join(tmpdir(), 'faithsweep-bench-scale-'));
// PostgreSQL may run as another user (root installs): it must be able to enter the home.
chmodSync(home, 0o755);
writeFileSync(join(home, 'tools.json'), readFileSync(join(paths.home, 'tools.json')));
const stack = await createLocalStack({ home, cacheDir: paths.cacheDir, tools: loadTools(home, contextFromEnv(process.env).tools), external: {} });
log(`starting PostgreSQL, NATS and Temporal under ${home}…`);
await stack.up();
const e = stack.endpoints;
const sql = new pg.Client({ connectionString: e.databaseUrl });
await sql.connect();
await applyMigrations(sql, readMigrations(paths.migrationsDir), silentLogger);

const token = randomBytes(16).toString('hex');
const bucket = 'bench-agents';
const nc = await connect({ servers: e.natsUrl });
const kv = await openAgentsBucket(nc, { bucket });
const servers: { drain(ms: number): Promise<unknown> }[] = [];
/** RunGroup calls the simulated agents refused (busy, draining), by code: each one is a retry in the worker. */
const refused = new Map<string, number>();
const agentLog = { ...silentLogger, warn(msg: string, fields?: Record<string, unknown>) {
  if (msg === 'RunGroup refused') refused.set(String(fields?.['code']), (refused.get(String(fields?.['code'])) ?? 0) + 1);
} };
const registrations: { deregister(): Promise<void> }[] = [];
log(`starting ${AGENTS} simulated agents (step ${STEP_MS} ms)…`);
for (let i = 0; i < AGENTS; i++) {
  const agentId = `sim-${i}`;
  const server = createAgentServer({
    engine: simulatedEngine(i), agentId, version: 'bench', token, maxConcurrentGroups: 1, maxBatch: MAX_BATCH, log: agentLog,
    device: { executionProvider: 'simulated', requestedProvider: 'simulated', description: `sleeps ${STEP_MS} ms per pass`, intraOpThreads: 0 },
  });
  const port = await server.listen('127.0.0.1', 0);
  const reg = createRegistration({
    kv, agentId, log: silentLogger,
    snapshot: () => ({ address: `127.0.0.1:${port}`, tls: false, version: 'bench', models: [{ name: MODEL.name, sha256: MODEL.sha256 }], capacity: { maxConcurrentGroups: 1, inFlight: server.inFlight, maxBatch: MAX_BATCH }, device: { executionProvider: 'simulated', description: '' } }),
  });
  await reg.start();
  servers.push(server);
  registrations.push(reg);
}

const env = { ...process.env, FAITHSWEEP_HOME: home, DATABASE_URL: e.databaseUrl, NATS_URL: e.natsUrl, TEMPORAL_ADDRESS: e.temporalAddress, FAITHSWEEP_AGENT_TOKEN: token };
const bin = join(REPO_ROOT, 'bin', 'faithsweep.js');
const taskQueue = 'bench-scale';
log('starting the worker process…');
const prof = values['worker-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['worker-prof']] : [];
const worker = spawn(process.execPath, [...prof, bin, 'worker', '--json', '--task-queue', taskQueue, '--bucket', bucket, '--max-activities', String(WINDOW * 2)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => worker.stdout!.once('data', () => resolve()));

const name = `scale-${randomBytes(3).toString('hex')}`;
const specPath = join(home, 'scale.yaml');
writeFileSync(specPath, [
  `name: ${name}`, 'models: [arith-cot]', `dataset: {generator: arith, seed: 1, count: ${UNITS}}`,
  'grid:', '  positions: ["0-39"]', '  steps: [{every: 4}]', '  kinds: [replace]', `options: {window: ${WINDOW}}`, '',
].join('\n'));
log(`launching ${name}: ${UNITS} work units x ${PER_UNIT} cells = ${UNITS * PER_UNIT} cells…`);
const launch = spawn(process.execPath, [bin, 'launch', specPath, '--task-queue', taskQueue, '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const launchOut: Buffer[] = [];
launch.stdout!.on('data', (d: Buffer) => launchOut.push(d));
const tLaunch = performance.now();
await new Promise((r) => launch.once('exit', r));
const t0 = performance.now();
log(`launch took ${((t0 - tLaunch) / 1000).toFixed(1)} s (plan + register ${UNITS} units); running…`);

// The status alone is polled (a cheap primary-key read); cells are counted only for the
// progress line, every 10 s, so that the poll does not load PostgreSQL during the sweep.
const t0Date = Date.now();
let last = performance.now();
let finishedAt: Date | null | undefined;
for (;;) {
  const s = (await sql.query<{ status: string; finishedAt: Date | null }>(`SELECT status, "finishedAt" FROM "Sweep" WHERE id = $1`, [name])).rows[0];
  if (s?.status === 'completed' || s?.status === 'failed') {
    finishedAt = s.finishedAt;
    break;
  }
  if (s && performance.now() - last > 10_000) {
    last = performance.now();
    const n = (await sql.query<{ n: string }>('SELECT count(*) AS n FROM "Cell" WHERE "sweepId" = $1', [name])).rows[0]!.n;
    log(`${s.status}: ${n} cells after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  await sleep(100);
}
const tEnd = performance.now();
// Wall time to the workflow's own finish time (the Sweep row's finishedAt, set by its last
// activity), not to this loop's noticing it.
const wall = finishedAt ? Math.min((tEnd - t0) / 1000, (finishedAt.getTime() - t0Date) / 1000) : (tEnd - t0) / 1000;
const cells = Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM "Cell" WHERE "sweepId" = $1', [name])).rows[0]!.n);
const units = Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "WorkUnit" WHERE "sweepId" = $1 AND status = 'done'`, [name])).rows[0]!.n);
const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1];
const ticks = readFileSync(`/proc/${worker.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
const workerCpu = (Number(ticks[11]) + Number(ticks[12])) / 100;
const benchCpu = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;

// Largest history over the sweep's workflows (every run, continued-as-new ones included).
const client = await temporalClient(e.temporalAddress);
let maxHistory = 0;
let executions = 0;
for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH 'sweep-${name}'` })) {
  executions++;
  const len = wf.historyLength || (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events?.length || 0;
  maxHistory = Math.max(maxHistory, len);
}
await client.connection.close();

// The ingestion paths alone, in the same run on the same table: today's COPY + merge
// (copyCells) and the older batched INSERT … unnest (insertCells), 4 concurrent writers,
// batches of 2,000, --ingest-rows rows per path, run as A B B A halves so that neither path
// always meets the larger table.
log('measuring the ingestion paths alone…');
const wu = (await sql.query<{ id: string; modelId: string; promptId: string }>('SELECT id, "modelId", "promptId" FROM "WorkUnit" WHERE "sweepId" = $1 LIMIT 1', [name])).rows[0]!;
const pool = createIngestPool(e.databaseUrl, 4);
const INGEST_ROWS = Number(values['ingest-rows']);
const BATCH = 2000;
const row = (k: number): CellRow => ({ cellKey: `ingest.${k}`, step: k % 40, position: k % 37, kind: 'replace', variant: 'random', token: 5, span: 'cot', finalAnswer: '0123', finalText: '0123456789012345678901234567890123456789', partialText: null, flipped: k % 7 === 0, correct: true, answerCommittedBefore: false, changedTokens: 0, computeSteps: 10, skipped: false, stoppedEarly: false, durationMs: 120, noop: false });
const ingestId = { sweepId: name, workUnitId: wu.id, modelId: wu.modelId, promptId: wu.promptId, seed: 0 };
let keyBase = 0;
/** Writes `n` new rows through `write` with 4 writers; returns [rows written, seconds]. */
async function ingest(write: typeof copyCells, n: number): Promise<[number, number]> {
  const meter = cpuMeter(join(home, 'pg'));
  const base = keyBase;
  keyBase += n;
  let next = 0;
  let written = 0;
  const ti = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < n) {
      const from = next;
      next += BATCH;
      const w = await write(pool, ingestId, Array.from({ length: Math.min(BATCH, n - from) }, (_, i) => row(base + from + i)));
      written += w;
    }
  }));
  const wallS = (performance.now() - ti) / 1000;
  const cpu = meter();
  lastCpu = cpu.server + cpu.client;
  return [written, wallS];
}
/** CPU seconds (PostgreSQL + this process) of the last `ingest` call. */
let lastCpu = 0;
const byPath: Record<'copy' | 'insert', [number, number, number]> = { copy: [0, 0, 0], insert: [0, 0, 0] };
for (const which of ['insert', 'copy', 'copy', 'insert'] as const) {
  const [n, s] = await ingest(which === 'copy' ? copyCells : insertCells, INGEST_ROWS / 2);
  byPath[which][0] += n;
  byPath[which][1] += s;
  byPath[which][2] += lastCpu;
}
// CPU µs per cell (PostgreSQL + the writing process, which is all the work of a write): the
// rate the machine's cores would reach if they did nothing else is cores × 10⁶ / that figure.
const cpuPerCell = (p: 'copy' | 'insert') => (byPath[p][2] / byPath[p][0]) * 1e6;
// Exactly once: the same batch again through COPY writes nothing.
const again = await copyCells(pool, ingestId, Array.from({ length: BATCH }, (_, i) => row(i)));
const copyRate = byPath.copy[0] / byPath.copy[1];
const insertRate = byPath.insert[0] / byPath.insert[1];
await pool.end();

const ideal = simulatedMs / 1000 / AGENTS;
// Where each agent's share of the wall time went: wall × agents = ramp (launch done → its first
// group) + groups (simulated compute + what a group costs beyond its sleeps: timer lateness,
// streaming results) + gaps (one group's end → the next group's start on the same agent: the
// orchestrator's turnaround per work unit) + tail (its last group's end → the sweep finished).
const tWallEnd = t0 + wall * 1000;
let rampMs = 0, groupMs = 0, gapMs = 0, tailMs = 0;
const gaps: number[] = [];
for (const spans of groupSpans) {
  const sorted = [...(spans ?? [])].sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) {
    tailMs += tWallEnd - t0;
    continue;
  }
  rampMs += sorted[0]![0] - t0;
  for (let k = 0; k < sorted.length; k++) {
    groupMs += sorted[k]![1] - sorted[k]![0];
    if (k > 0) {
      const gap = sorted[k]![0] - sorted[k - 1]![1];
      gapMs += gap;
      gaps.push(gap);
    }
  }
  tailMs += Math.max(0, tWallEnd - sorted[sorted.length - 1]![1]);
}
gaps.sort((a, b) => a - b);
// How many work units the worker was running (activity start → done, the WorkUnit rows'
// startedAt/finishedAt) over the sweep: fewer than the agents means the workflow did not keep
// them fed; as many or more, with gaps above, means the turnaround is inside the worker.
const spansDb = (await sql.query<{ s: Date; f: Date }>(`SELECT "startedAt" AS s, "finishedAt" AS f FROM "WorkUnit" WHERE "sweepId" = $1 AND "startedAt" IS NOT NULL AND "finishedAt" IS NOT NULL`, [name])).rows;
const edges = spansDb.flatMap((r) => [[r.s.getTime(), 1], [r.f.getTime(), -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
// The rows' times are wall-clock dates, so the sweep's span is taken on that clock too.
const tStop = t0Date + wall * 1000;
let running = 0, prevT = t0Date, unitMs = 0, starvedMs = 0;
for (const [t, d] of edges) {
  const at = Math.min(Math.max(t, t0Date), tStop);
  unitMs += running * (at - prevT);
  if (running < AGENTS) starvedMs += at - prevT;
  running += d;
  prevT = at;
}
unitMs += running * (tStop - prevT);
if (running < AGENTS) starvedMs += tStop - prevT;
const pct = (q: number) => (gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]! : 0);
const excess = (ms: number) => `${(ms / 1000 / AGENTS).toFixed(1)} s per agent (${((ms / 1000 / AGENTS / ideal) * 100).toFixed(1)} % of ideal)`;
const table = [
  ['cells written', `${cells} (${units}/${UNITS} work units done)`],
  ['wall time (workflow start → completed)', `${wall.toFixed(1)} s`],
  ['simulated compute', `${(simulatedMs / 1000).toFixed(1)} s over ${AGENTS} agents = ${ideal.toFixed(1)} s ideal wall`],
  ['overhead ratio (wall / ideal)', `${(wall / ideal).toFixed(3)} (target <= 1.10)`],
  ['… start: launch done → an agent\'s first group', excess(rampMs)],
  ['… in groups beyond the simulated compute (timer lateness, streaming)', excess(groupMs - simulatedMs)],
  ['… between groups on an agent (orchestrator turnaround)', `${excess(gapMs)}; per work unit median ${pct(0.5).toFixed(0)} ms, p90 ${pct(0.9).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms`],
  ['… end: an agent\'s last group → sweep finished', excess(tailMs)],
  ['RunGroup calls the agents refused', refused.size ? [...refused].map(([c, n]) => `${n} ${c}`).join(', ') : '0'],
  ['work units running in the worker (activity start → done)', `${(unitMs / (wall * 1000)).toFixed(1)} on average (window ${WINDOW}, ${AGENTS} agents); fewer than ${AGENTS} for ${(starvedMs / 1000).toFixed(1)} s of the ${wall.toFixed(1)} s`],
  ['work units/s scheduled', (units / wall).toFixed(1)],
  ['cells/s ingested during the sweep', (cells / wall).toFixed(0)],
  ['ingestion, COPY + merge (4 writers, batches of 2000)', `${copyRate.toFixed(0)} cells/s wall (target >= 100,000); ${cpuPerCell('copy').toFixed(1)} CPU µs/cell = ${(1e6 / cpuPerCell('copy')).toFixed(0)} cells per CPU-second: 100,000 cells/s needs ${(cpuPerCell('copy') / 10).toFixed(2)} cores`],
  ['ingestion, INSERT … unnest (same run, same table)', `${insertRate.toFixed(0)} cells/s wall; ${cpuPerCell('insert').toFixed(1)} CPU µs/cell`],
  ['ingestion ratio COPY / INSERT', `${(copyRate / insertRate).toFixed(2)} wall, ${(cpuPerCell('insert') / cpuPerCell('copy')).toFixed(2)} CPU (a repeated batch wrote ${again} rows)`],
  ['largest workflow history', `${maxHistory} events over ${executions} executions (limit 10,000)`],
  ['worker peak RSS', rss ? `${(Number(rss) / 1024).toFixed(0)} MiB` : '?'],
  ['worker CPU time (the orchestrator)', `${workerCpu.toFixed(0)} s = ${((workerCpu / cells) * 1e6).toFixed(0)} µs per cell`],
  ['bench process CPU (simulated agents, polling)', `${benchCpu.toFixed(0)} s`],
  ['machine CPU available during the sweep', `${(wall * cpus().length).toFixed(0)} s (${cpus().length} cores × wall)`],
];
process.stdout.write(`\nbench:scale — ${CELLS} cells, ${AGENTS} simulated agents, ${STEP_MS} ms per simulated pass, window ${WINDOW}\n\n`);
process.stdout.write('| measure | value |\n| --- | --- |\n');
for (const [k, v] of table) process.stdout.write(`| ${k} | ${v} |\n`);

worker.kill('SIGTERM');
await new Promise((r) => worker.once('exit', r));
for (const r of registrations) await r.deregister();
for (const s of servers) await s.drain(0);
await nc.close();
await sql.end();
await stack.down();
if (!values['keep-home']) rmSync(home, { recursive: true, force: true });
process.exit(0);
