// npm run soak -- --minutes N: sweeps on the real stack while agents, the worker and the
// Temporal server are SIGKILLed at random and started again after a random delay.
//
// One deployment (test/sweep/cluster.ts: the test stack's PostgreSQL and NATS, a Temporal
// dev server with its state on disk, two agents on the trained organisms, one worker) runs
// sweeps one after another for N minutes. Meanwhile a chaos loop, one fault at a time, waits
// 3–10 s, SIGKILLs one of {an agent, the worker, the Temporal server} (each kind once per
// round, rounds in random order) and starts it again 1–6 s later. Once the N minutes are over
// (and each kind has been injected at least once) the chaos stops, the last sweep runs to its end, and every sweep's cell rows are compared
// with its plan key for key (compareWithPlan): the run passes only with zero lost and zero
// duplicate cells in every sweep. Prints a summary (kills per kind, sweeps, cells, wall
// time); --json prints it as one JSON object. Exit 0 when every sweep equals its plan.
//
// Launching is not what is soaked: a sweep is launched only while Temporal is up, and the
// Temporal server is not killed while a launch is under way.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, FaithsweepError, formatError } from '../../common/errors.ts';
import { testStack } from '../helpers/stack.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import type { Cluster } from './cluster.ts';
import { compareWithPlan, organismsDir, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';
import { mulberry32 } from '../../common/random/mulberry32.ts';

const HELP = `Usage: npm run soak -- [--minutes N] [--seed S] [--prompts P] [--json]

Runs sweeps on the real stack (PostgreSQL, NATS, Temporal, two agents, a worker) for N
minutes while agents, the worker and Temporal are SIGKILLed at random and restarted after
a random delay; then checks every sweep's cells against its plan (zero lost, zero duplicate).

  --minutes N   how long faults are injected (default 10; fractions allowed, e.g. 0.5)
  --seed S      seed of the fault schedule, to replay one (default: random, printed)
  --prompts P   prompts per sweep (default 8: 16 work units, 480 cells)
  --json        print the summary as one JSON object on stdout (progress goes to stderr)
  --help        this text

Exit status 0 when every sweep completed with exactly its plan, 1 otherwise.`;

/** Pause before each fault, ms: long enough for the sweep to make progress between faults. */
const FAULT_GAP_MS = [3000, 10_000] as const;
/** How long a killed component stays down, ms: from a quick supervisor restart to a slow one. */
const DOWN_MS = [1000, 6000] as const;
/** The last sweep must finish this soon once the faults stop (two cores shared with other work). */
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** A sweep that makes no progress for this long while faults go on fails the run. */
const SWEEP_STUCK_MS = 10 * 60_000;

type Kind = 'agent' | 'worker' | 'temporal';
const KINDS: readonly Kind[] = ['agent', 'worker', 'temporal'];

/** One sweep's result. */
export interface SoakSweep {
  readonly name: string;
  readonly units: number;
  readonly planned: number;
  readonly rows: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly extra: number;
  readonly wallMs: number;
}

/** The summary `--json` prints. */
export interface SoakSummary {
  readonly ok: boolean;
  readonly minutes: number;
  readonly seed: number;
  readonly wallMs: number;
  readonly kills: Record<Kind, number>;
  readonly sweeps: readonly SoakSweep[];
  readonly cells: { readonly planned: number; readonly rows: number; readonly lost: number; readonly duplicates: number };
  /** Why the run failed, when it did. */
  readonly error?: string;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function parse(argv: readonly string[]): { minutes: number; seed: number; prompts: number; json: boolean; help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: {
      minutes: { type: 'string' }, seed: { type: 'string' }, prompts: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    } }));
  } catch (err) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, (err as Error).message, { hint: "run 'npm run soak -- --help'" });
  }
  const num = (flag: string, raw: string | undefined, fallback: number, ok: (n: number) => boolean, what: string): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${flag} must be ${what} (got '${raw}')`, { hint: "run 'npm run soak -- --help'" });
    return n;
  };
  return {
    minutes: num('minutes', values.minutes, 10, (n) => n > 0 && n <= 24 * 60, 'a number of minutes in (0, 1440]'),
    seed: num('seed', values.seed, Math.floor(Math.random() * 2 ** 31), (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'),
    prompts: num('prompts', values.prompts, 8, (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer in 1..1000'),
    json: values.json === true,
    help: values.help === true,
  };
}

function spec(name: string, seed: number, prompts: number): string {
  return [
    `name: ${name}`,
    'models: [arith-cot, arith-cot-decoupled]',
    `dataset: {generator: arith, seed: ${seed}, count: ${prompts}}`,
    'grid:',
    '  positions: [{every: 3, of: cot}]',
    '  steps: [0.25, 0.5, 0.75]',
    '  kinds: [replace, probe]',
    'options: {window: 4}',
    '',
  ].join('\n');
}

/** The Temporal dev server's pid (its pid file under the cluster's home), or null when it is not running. */
function temporalPid(c: Cluster): number | null {
  const file = join(c.home, 'run', 'temporal.pid');
  if (!existsSync(file)) return null;
  const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Runs the soak; resolves with the summary (never rejects: a failure is `ok: false` with `error`). */
export async function soak(opts: { minutes: number; seed: number; prompts: number; progress: (line: string) => void }): Promise<SoakSummary> {
  const { minutes, seed, prompts, progress } = opts;
  // Seeded, so that a fault schedule can be replayed with --seed.
  const random = mulberry32(seed);
  const between = ([lo, hi]: readonly [number, number]): number => Math.round(lo + random() * (hi - lo));
  const kills: Record<Kind, number> = { agent: 0, worker: 0, temporal: 0 };
  const sweeps: SoakSweep[] = [];
  const t0 = Date.now();
  const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  let c: Cluster | undefined;
  let error: string | undefined;
  let temporalDown = false;
  let launching = false;
  let chaosOver = false;

  const stack = await testStack();
  const stackWasUp = (await stack.status()).every((s) => s.health.state === 'healthy');
  try {
    requirePrerequisites('the soak', ['arith-cot', 'arith-cot-decoupled']);
    c = await startCluster('soak');
    const cluster = c;
    const models = organismsDir(c.home);
    await Promise.all([c.startAgent('agent-a', models), c.startAgent('agent-b', models), c.startWorker()]);
    if (temporalPid(c) === null) throw new Error(`no Temporal pid file under ${c.home}/run: cannot kill the Temporal server`);
    progress(`stack up in ${elapsed()}; faults for ${minutes} min, seed ${seed}`);
    const chaosEnd = Date.now() + minutes * 60_000;

    const fault = async (kind: Kind): Promise<void> => {
      const down = between(DOWN_MS);
      if (kind === 'agent') {
        const name = random() < 0.5 ? 'agent-a' : 'agent-b';
        const a = cluster.agents.get(name)!;
        a.child.kill('SIGKILL');
        await a.exited;
        progress(`${elapsed()}: SIGKILL ${name}; restart in ${down} ms`);
        await sleep(down);
        await cluster.startAgent(name, models);
      } else if (kind === 'worker') {
        const w = cluster.worker!;
        w.child.kill('SIGKILL');
        await w.exited;
        progress(`${elapsed()}: SIGKILL worker; restart in ${down} ms`);
        await sleep(down);
        await cluster.startWorker();
      } else {
        while (launching) await sleep(100);
        const pid = temporalPid(cluster);
        if (pid === null) throw new Error('the Temporal server is not running');
        temporalDown = true;
        try {
          // The dev server leads its own process group (started detached): kill all of it.
          process.kill(-pid, 'SIGKILL');
          await until('the Temporal server to exit', async () => temporalPid(cluster) === null, 10_000, 50);
          progress(`${elapsed()}: SIGKILL temporal; restart in ${down} ms`);
          await sleep(down);
          await cluster.temporal.up();
        } finally {
          temporalDown = false;
        }
      }
      kills[kind]++;
    };

    // Faults go on until the time is over and every kind has been injected at least once.
    const chaos = (async () => {
      while (Date.now() < chaosEnd || KINDS.some((k) => kills[k] === 0)) {
        const round = [...KINDS].sort(() => random() - 0.5);
        for (const kind of round) {
          await sleep(between(FAULT_GAP_MS));
          if (Date.now() >= chaosEnd && kills[kind] > 0) continue;
          await fault(kind);
        }
      }
      chaosOver = true;
      progress(`${elapsed()}: faults over (${kills.agent} agent, ${kills.worker} worker, ${kills.temporal} temporal kills)`);
    })();

    const runSweeps = async (): Promise<void> => {
      for (let i = 1; ; i++) {
        const name = `soak-${i}`;
        while (temporalDown) await sleep(200);
        launching = true;
        const started = Date.now();
        const r = await cluster.cli(['launch', cluster.writeSpec(name, spec(name, 1000 + i, prompts)), '--task-queue', cluster.taskQueue, '--json']).finally(() => { launching = false; });
        if (r.code !== 0) throw new Error(`launch of ${name} failed: ${r.stderr}`);
        let last = { done: -1, at: Date.now() };
        await until(`sweep ${name} to complete`, async () => {
          const s = await sweepState(cluster, name);
          if (s.done !== last.done) last = { done: s.done, at: Date.now() };
          if (Date.now() - last.at > (chaosOver ? DRAIN_TIMEOUT_MS : SWEEP_STUCK_MS)) throw new Error(`sweep ${name} made no progress for ${Math.round((Date.now() - last.at) / 1000)} s (${s.done}/${s.units} units)`);
          return s.status === 'completed' ? s : null;
        }, Number.MAX_SAFE_INTEGER, 500).catch(async (err: unknown) => {
          throw new Error(`${(err as Error).message}\nunfinished:\n${await unfinishedUnits(cluster, name)}\nworker log (tail):\n${cluster.workerLog().slice(-3000)}`, { cause: err });
        });
        const cmp = await compareWithPlan(cluster, name);
        const units = (await sweepState(cluster, name)).units;
        const row: SoakSweep = {
          name, units, planned: cmp.planned, rows: cmp.rows,
          lost: cmp.missingCount, duplicates: cmp.rows - cmp.distinct, extra: cmp.extraCount, wallMs: Date.now() - started,
        };
        sweeps.push(row);
        progress(`${elapsed()}: ${name} completed: ${row.rows}/${row.planned} cells, ${row.lost} lost, ${row.duplicates} duplicate (${(row.wallMs / 1000).toFixed(0)} s)`);
        if (cmp.unitsWithoutTrajectory > 0) throw new Error(`${name}: ${cmp.unitsWithoutTrajectory} work units have no clean trajectory`);
        if (chaosOver) return;
      }
    };

    await Promise.all([chaos, runSweeps()]);
  } catch (err) {
    error = (err as Error).message;
    progress(`failed: ${error}`);
  } finally {
    await c?.close().catch(() => undefined);
    if (!stackWasUp) await stack.down().catch(() => undefined);
  }
  const cells = sweeps.reduce((a, s) => ({ planned: a.planned + s.planned, rows: a.rows + s.rows, lost: a.lost + s.lost, duplicates: a.duplicates + s.duplicates }), { planned: 0, rows: 0, lost: 0, duplicates: 0 });
  const ok = error === undefined && sweeps.length > 0 && sweeps.every((s) => s.lost === 0 && s.duplicates === 0 && s.extra === 0 && s.rows === s.planned);
  return { ok, minutes, seed, wallMs: Date.now() - t0, kills, sweeps, cells, ...(error !== undefined ? { error } : {}) };
}

function human(s: SoakSummary): string {
  const min = (ms: number): string => `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return [
    `soak ${s.ok ? 'passed' : 'FAILED'}: ${s.minutes} min of faults, seed ${s.seed}, wall ${min(s.wallMs)}`,
    `kills: agent ${s.kills.agent}, worker ${s.kills.worker}, temporal ${s.kills.temporal} (SIGKILL, restarted after ${DOWN_MS[0] / 1000}–${DOWN_MS[1] / 1000} s)`,
    `sweeps: ${s.sweeps.length} completed, ${s.sweeps.reduce((a, x) => a + x.units, 0)} work units`,
    `cells: ${s.cells.rows} rows for ${s.cells.planned} planned; ${s.cells.lost} lost, ${s.cells.duplicates} duplicate`,
    ...(s.error ? [`error: ${s.error}`] : []),
  ].join('\n');
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(HELP + '\n');
    process.exit(0);
  }
  const summary = await soak({ ...opts, progress: (line) => process.stderr.write(`soak: ${line}\n`) });
  process.stdout.write((opts.json ? JSON.stringify(summary) : human(summary)) + '\n');
  process.exit(summary.ok ? 0 : 1);
}
