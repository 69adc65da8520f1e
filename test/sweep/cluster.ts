/**
 * A whole faithsweep deployment for end-to-end sweep tests, every part real: the test
 * stack's PostgreSQL (a fresh database) and NATS, a Temporal dev server of its own with its
 * state on disk (so it can be stopped and restarted), node agents and a worker as separate
 * `faithsweep` processes (so they can be SIGKILLed), and the CLI as a child process.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { createLocalStack } from '../../orchestrator/dev/stack.ts';
import type { LocalStack } from '../../orchestrator/dev/stack.ts';
import { resolveModelCells } from '../../orchestrator/sweep/grid.ts';
import type { StoredSpec } from '../../orchestrator/sweep/register.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { testNats } from '../helpers/nats.ts';
import type { TestNats } from '../helpers/nats.ts';
import { testTools } from '../helpers/stack.ts';
import { spawnAgent } from '../agent/agent-process.ts';
import type { AgentProcess } from '../agent/agent-process.ts';

export const MODELS_DIR = resolvePaths(process.env).modelsDir;
const BIN = join(REPO_ROOT, 'bin', 'faithsweep.js');
/** Loading models / bundling workflows on a loaded two-core machine (load averages of 20 seen). */
const START_TIMEOUT_MS = 360_000;

/** A running worker process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

/** The deployment. */
export interface Cluster {
  readonly home: string;
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly temporal: LocalStack;
  readonly taskQueue: string;
  readonly bucket: string;
  readonly env: Record<string, string>;
  readonly agents: Map<string, AgentProcess>;
  worker: WorkerProcess | undefined;
  /** What every worker process of this cluster wrote to stderr. */
  workerLog(): string;
  /**
   * Starts an agent on the models under `modelsDir` (default: the repository's models folder);
   * `args` are extra agent flags (a repeated flag's last value wins); `wrap` a command prefix
   * that execs the agent (e.g. `ip netns exec NS`: test/helpers/netns.ts).
   */
  startAgent(name: string, modelsDir?: string, args?: readonly string[], wrap?: readonly string[]): Promise<AgentProcess>;
  /** Starts a worker process; `args` are extra `faithsweep worker` flags (e.g. `--call-ms`). */
  startWorker(args?: readonly string[]): Promise<WorkerProcess>;
  /** Runs `faithsweep ...args`; resolves with the exit code and output (never rejects on exit code). */
  cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Writes a spec file under the home and returns its path. */
  writeSpec(name: string, yaml: string): string;
  close(): Promise<void>;
}

/** Starts PostgreSQL/NATS (shared test stack), a Temporal of its own, and nothing else yet. */
export async function startCluster(label: string): Promise<Cluster> {
  const home = mkdtempSync(join(tmpdir(), `faithsweep-${label}-`));
  const db = await freshDatabase(label);
  const nats = await testNats();
  const tools = testTools();
  writeFileSync(join(home, 'tools.json'), JSON.stringify(tools));
  const temporal = await createLocalStack({ home, cacheDir: resolvePaths(process.env).cacheDir, tools, external: { databaseUrl: db.url, natsUrl: nats.url }, services: ['temporal'] });
  await temporal.up();
  const token = `sweep-${randomBytes(12).toString('hex')}`;
  const tokenFile = join(home, 'agent-token');
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  const bucket = `agents_${randomBytes(4).toString('hex')}`;
  const taskQueue = `sweeps-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '',
    FAITHSWEEP_HOME: home, DATABASE_URL: db.url, NATS_URL: nats.url, TEMPORAL_ADDRESS: temporal.endpoints.temporalAddress,
    FAITHSWEEP_AGENT_TOKEN: token,
  };
  const agents = new Map<string, AgentProcess>();
  let workerLog = '';

  const cluster: Cluster = {
    home, db, nats, temporal, taskQueue, bucket, env, agents, worker: undefined,
    workerLog: () => workerLog,
    async startAgent(name, modelsDir = MODELS_DIR, args = [], wrap = []) {
      const p = spawnAgent(['--models', modelsDir, '--port', '0', '--nats', nats.url, '--bucket', bucket, '--token-file', tokenFile,
        '--registry-ttl-ms', '3000', '--agent-id', `${name}-${randomBytes(3).toString('hex')}`, '--threads', '1', '--max-groups', '1', '--grace-ms', '2000', ...args], {}, START_TIMEOUT_MS, wrap);
      agents.set(name, p);
      await p.ready;
      return p;
    },
    async startWorker(args = []) {
      const child = spawn(process.execPath, [BIN, 'worker', '--json', '--task-queue', taskQueue, '--bucket', bucket, '--stall-ms', '15000', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString('utf8');
        workerLog += d.toString('utf8');
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not start; stderr:\n${err}`)), START_TIMEOUT_MS);
        child.stdout?.once('data', () => { clearTimeout(timer); resolve(); });
        void exited.then(() => { clearTimeout(timer); reject(new Error(`worker exited before polling; stderr:\n${err}`)); });
      });
      ready.catch(() => undefined);
      const w = { child, ready, exited };
      cluster.worker = w;
      await ready;
      return w;
    },
    cli(args) {
      return new Promise((resolve) => {
        execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    writeSpec(name, yaml) {
      const p = join(home, `${name}.yaml`);
      writeFileSync(p, yaml);
      return p;
    },
    async close() {
      const procs = [...agents.values()].map((a) => a.child);
      if (cluster.worker) procs.push(cluster.worker.child);
      for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(procs.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
      await temporal.down().catch(() => undefined);
      await nats.close().catch(() => undefined);
      await db.drop().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return cluster;
}

/**
 * A folder under `home` with only the two arithmetic organisms (symbolic links): an agent
 * started on it loads two models instead of every one under models/, which starts it faster.
 */
export function organismsDir(home: string): string {
  const dir = join(home, 'organisms');
  mkdirSync(dir, { recursive: true });
  for (const m of ['arith-cot', 'arith-cot-decoupled']) if (!existsSync(join(dir, m))) symlinkSync(join(MODELS_DIR, m), join(dir, m));
  return dir;
}

/** A small sweep spec over both organisms: 30 cells per work unit (9 CoT positions × 3 steps + 3 probes). */
export function smallSpec(name: string, prompts: number, window = 2): string {
  return [
    `name: ${name}`,
    'models: [arith-cot, arith-cot-decoupled]',
    `dataset: {generator: arith, seed: 7, count: ${prompts}}`,
    'grid:',
    '  positions: [{every: 3, of: cot}]',
    '  steps: [0.25, 0.5, 0.75]',
    '  kinds: [replace, probe]',
    `options: {window: ${window}}`,
    '',
  ].join('\n');
}

/** Polls `f` until it returns a truthy value or `timeoutMs` passes. */
export async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The sweep's status and counters. */
export async function sweepState(c: Cluster, sweepId: string): Promise<{ status: string; done: number; units: number; cells: number }> {
  const r = await c.db.sql.query<{ status: string; done: string; units: string; cells: string }>(
    `SELECT s.status,
            (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = s.id AND w.status = 'done') AS done,
            (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = s.id) AS units,
            (SELECT count(*) FROM "Cell" x WHERE x."sweepId" = s.id) AS cells
       FROM "Sweep" s WHERE s.id = $1`, [sweepId]);
  const row = r.rows[0];
  return row ? { status: row.status, done: Number(row.done), units: Number(row.units), cells: Number(row.cells) } : { status: 'absent', done: 0, units: 0, cells: 0 };
}

/**
 * Compares the cell rows with the plan, key for key: every work unit has its trajectory,
 * and its cells are exactly the grid resolved against that trajectory. Returns the
 * differences (the first 10 keys each, empty when equal) and the counts.
 */
export async function compareWithPlan(c: Cluster, sweepId: string): Promise<{ planned: number; rows: number; distinct: number; missing: string[]; extra: string[]; missingCount: number; extraCount: number; unitsWithoutTrajectory: number }> {
  const spec = (await c.db.sql.query<{ spec: StoredSpec }>('SELECT spec FROM "Sweep" WHERE id = $1', [sweepId])).rows[0]!.spec;
  const units = (await c.db.sql.query<{ ordinal: number; modelId: string; cotStart: number | null; cotEnd: number | null; answerStart: number | null; answerEnd: number | null; has: boolean }>(
    `SELECT w.ordinal, w."modelId", t."cotStart", t."cotEnd", t."answerStart", t."answerEnd", t.id IS NOT NULL AS has
       FROM "WorkUnit" w LEFT JOIN "Trajectory" t ON t."workUnitId" = w.id WHERE w."sweepId" = $1`, [sweepId])).rows;
  const expected = new Set<string>();
  for (const u of units) {
    const m = spec.models.find((x) => x.id === u.modelId)!;
    const shape = {
      steps: m.sampler.steps, genLength: m.sampler.genLength,
      cot: u.cotStart !== null && u.cotEnd !== null ? { start: u.cotStart, end: u.cotEnd } : null,
      answer: u.answerStart !== null && u.answerEnd !== null ? { start: u.answerStart, end: u.answerEnd } : null,
    };
    for (const cell of resolveModelCells(spec.spec, m.kind === 'autoregressive', shape)) expected.add(`u${u.ordinal}.${cell.key}`);
  }
  const rows = (await c.db.sql.query<{ cellKey: string }>('SELECT "cellKey" FROM "Cell" WHERE "sweepId" = $1', [sweepId])).rows.map((r) => r.cellKey);
  const got = new Set(rows);
  const missing = [...expected].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !expected.has(k));
  return {
    planned: expected.size,
    rows: rows.length,
    distinct: got.size,
    missing: missing.slice(0, 10),
    extra: extra.slice(0, 10),
    missingCount: missing.length,
    extraCount: extra.length,
    unitsWithoutTrajectory: units.filter((u) => !u.has).length,
  };
}

/** Work units not done, with their state and last error: for failure messages. */
export async function unfinishedUnits(c: Cluster, sweepId: string): Promise<string> {
  const r = await c.db.sql.query<{ id: string; status: string; attempts: number; agentId: string | null; error: string | null; doneCells: number; plannedCells: number }>(
    `SELECT id, status, attempts, "agentId", error, "doneCells", "plannedCells" FROM "WorkUnit" WHERE "sweepId" = $1 AND status <> 'done' ORDER BY ordinal`, [sweepId]);
  return r.rows.map((u) => `${u.id} ${u.status} attempts=${u.attempts} agent=${u.agentId} cells=${u.doneCells}/${u.plannedCells} error=${u.error}`).join('\n');
}
