/**
 * The sweep commands: plan, launch, status, watch, list, cancel, resume. Each takes --json.
 * `plan` writes nothing; `launch` writes the plan (idempotently) and starts the workflow.
 */
import pg from 'pg';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { command } from '../../../common/cli/command.ts';
import { parseIntFlag } from '../../../common/cli/int-flag.ts';
import type { CliContext } from '../../../common/cli/context.ts';
import { ErrorCode, FaithsweepError, WarningCode, formatWarning } from '../../../common/errors.ts';
import type { FaithsweepWarning } from '../../../common/errors.ts';
import { connectNats } from '../../../common/nats/connect.ts';
import { followProgress, progressSubject } from '../../sweep/progress-message.ts';
import { planSweep, sweepWorkflowId } from '../../sweep/plan.ts';
import { launchNextSteps, nextStepLines } from './next-steps.ts';
import { measuredThroughput, planEstimate } from '../../sweep/estimate.ts';
import type { PlanEstimate } from '../../sweep/estimate.ts';
import type { SweepPlan } from '../../sweep/plan.ts';
import { REGISTERING, discardRegistration, registerSweep } from '../../sweep/register.ts';
import { assertSchemaCurrent, readMigrations } from '../../db/migrate.ts';
import { formatDuration, progressBar, readSweepState, readSweepStatus, stateLabel } from '../../sweep/status.ts';
import type { SweepStatus } from '../../sweep/status.ts';
import { SWEEP_QUERIES, SWEEP_SIGNALS } from '../../sweep/contract.ts';
import type { SweepProgress, SweepWorkflowInput } from '../../sweep/contract.ts';
import { DEFAULT_TASK_QUEUE, checkSchema, readSpec, sweepArg, temporalClient } from './services.ts';
import { configuredEndpoint, databaseUrlFor, endpointsFromContext } from './endpoints.ts';
import { MAX_WINDOW } from '../../../workflows/limits.ts';

/** How long `plan` waits for the database when it calibrates its estimate (it plans without one). */
const CALIBRATION_CONNECT_MS = 2000;

/**
 * The plan's time estimate: measured from the database's last completed sweep of the plan's
 * models when a database is configured and reachable, else the uncalibrated default (with
 * the reason). Never fails: `plan` works without any service running.
 */
async function calibratedEstimate(ctx: CliContext, plan: SweepPlan): Promise<PlanEstimate> {
  const configured = await configuredEndpoint(ctx, 'databaseUrl');
  if (!configured) return planEstimate(plan, null, 'no database configured');
  const sql = new pg.Client({ connectionString: configured, connectionTimeoutMillis: CALIBRATION_CONNECT_MS });
  sql.on('error', () => undefined);
  try {
    await sql.connect();
  } catch {
    return planEstimate(plan, null, 'no database reachable');
  }
  try {
    return planEstimate(plan, await measuredThroughput(sql, plan.models.map((m) => m.id)));
  } catch (err) {
    return planEstimate(plan, null, `the database could not be read (${(err as Error).message.split('\n')[0]})`);
  } finally {
    await sql.end().catch(() => undefined);
  }
}

function printPlan(ctx: CliContext, plan: SweepPlan, estimate: PlanEstimate): void {
  const s = plan.spec;
  if (ctx.json) {
    ctx.out(JSON.stringify({
      name: s.name,
      models: plan.models.map((m) => ({ name: m.name, sha256: m.sha256, dir: m.dir, sampler: m.sampler })),
      prompts: plan.promptCount, seeds: plan.seedCopies.run, workUnits: plan.workUnits,
      seedCopies: { deterministic: plan.seedCopies.deterministic, listed: plan.seedCopies.listed, run: plan.seedCopies.run, collapsed: plan.seedCopies.collapsed, note: plan.seedCopies.note },
      examples: plan.examples.map((x) => ({ model: x.model, template: x.template, text: x.text, promptIds: x.promptIds })),
      cells: plan.cells, cellsExact: plan.exact, cellsPerModel: plan.cellsPerModel,
      estimate: { ...estimate, seconds: Math.round(estimate.seconds), rowSteps: plan.rowSteps },
      warnings: plan.warnings,
    }, null, 2));
    return;
  }
  ctx.out(`sweep ${s.name}: nothing is written by 'plan'`);
  for (const m of plan.models) {
    const c = plan.cellsPerModel[plan.models.indexOf(m)]!;
    const sampler = m.card.kind === 'autoregressive'
      ? `autoregressive gen=${m.sampler.genLength} temp=${m.sampler.temperature}`
      : `T=${m.sampler.steps} gen=${m.sampler.genLength} block=${m.sampler.blockLength} ${m.sampler.remasking} temp=${m.sampler.temperature}`;
    ctx.out(`  model ${m.name}  sha256 ${m.sha256.slice(0, 12)}…  ${sampler}  cells/unit ${c.exact ? '' : '≈'}${c.cellsPerUnit}`);
  }
  ctx.out(`  prompts ${plan.promptCount} (${s.dataset.kind === 'arith' ? `arith seed ${s.dataset.seed}` : s.dataset.path})  seeds ${plan.seedCopies.run.join(',')}${plan.seedCopies.collapsed ? ` (listed: ${plan.seedCopies.listed.join(',')})` : ''}`);
  if (plan.seedCopies.note) ctx.out(`  ${plan.seedCopies.note}`);
  for (const x of plan.examples) {
    ctx.out(`  prompt 0 as ${x.model} sees it (${x.template === 'chat' ? `chat template, ${x.promptIds.length} tokens` : 'raw text'}):`);
    for (const line of x.text.split('\n')) ctx.out(`    | ${line}`);
  }
  ctx.out(`  work units ${plan.workUnits}`);
  ctx.out(`  cells ${plan.exact ? '' : '≈'}${plan.cells}${plan.exact ? '' : '  (span selectors resolve against each clean run; estimated from the models\' golden trajectories)'}`);
  ctx.out(`  ${estimate.basis}`);
}

/** Spec → plan, with the models folder of the context; its warnings go to stderr (unless --json, whose output lists them). */
async function planFromFile(ctx: CliContext, file: string | undefined): Promise<SweepPlan> {
  const { spec, path } = readSpec(file);
  const plan = await planSweep(spec, { specPath: path, modelsDir: ctx.paths.modelsDir });
  if (!ctx.json) for (const w of plan.warnings) ctx.err(formatWarning(w));
  return plan;
}

const planCommand = command({
  name: 'plan',
  summary: 'Validate a sweep spec and print its work units, cells and an estimate (writes nothing)',
  args: 'SPEC',
  details: ['SPEC is a YAML sweep spec (docs/spec.md; examples/demo.yaml).'],
  async run(ctx, { positionals }) {
    const plan = await planFromFile(ctx, positionals[0]);
    printPlan(ctx, plan, await calibratedEstimate(ctx, plan));
  },
});

/**
 * Starts (or finds running) the sweep's workflow. A sweep that has ended (or was never started)
 * is set to `running` first, so that a watcher started right after does not see the previous
 * run's final status; a `running` or `paused` sweep keeps its status, which its live workflow
 * writes (a launch or resume of a paused sweep leaves it paused). Refuses a sweep whose
 * registration is not complete (status `registering`: a launch stopped half-way).
 */
export async function startSweepWorkflow(client: Client, sweepId: string, taskQueue: string, window: number | undefined, databaseUrl: string): Promise<'started' | 'running'> {
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  try {
    // Set `running` before the start so that a watcher never sees the previous run's final
    // status as this run's; put the previous status back if no workflow starts. A live status
    // is left alone: its workflow (or the one started now, at once) writes it.
    const prev = await sql.query<{ status: string; finishedAt: Date | null }>(
      `UPDATE "Sweep" s SET status = 'running', "finishedAt" = NULL FROM "Sweep" o WHERE s.id = $1 AND o.id = s.id AND o.status NOT IN ($2, 'running', 'paused') RETURNING o.status, o."finishedAt"`,
      [sweepId, REGISTERING]);
    if (!prev.rows[0] && (await sql.query('SELECT 1 FROM "Sweep" WHERE id = $1 AND status = $2', [sweepId, REGISTERING])).rowCount) {
      throw notRegistered(sweepId);
    }
    try {
      const input: SweepWorkflowInput = { sweepId, ...(window ? { window } : {}) };
      await client.workflow.start('sweepWorkflow', { taskQueue, workflowId: sweepWorkflowId(sweepId), args: [input] });
      // A new workflow starts unpaused: a `paused` left by one that ended while paused (terminated,
      // timed out) is not this run's; the workflow writes `running` itself only once a worker runs it.
      await sql.query(`UPDATE "Sweep" SET status = 'running', "finishedAt" = NULL WHERE id = $1 AND status = 'paused'`, [sweepId]);
      return 'started';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
      const before = prev.rows[0];
      if (before) {
        await sql.query(`UPDATE "Sweep" SET status = $2, "finishedAt" = $3 WHERE id = $1 AND status = 'running'`, [sweepId, before.status, before.finishedAt])
          .catch(() => undefined);
      }
      throw err;
    }
  } finally {
    await sql.end();
  }
}

/** The error for a sweep whose registration never finished (status `registering`). */
function notRegistered(sweepId: string): FaithsweepError {
  return new FaithsweepError(ErrorCode.BAD_ARGS, `sweep '${sweepId}' is not fully registered (a launch of it stopped before all its work units were written)`, {
    hint: `run 'faithsweep launch SPEC' again with its spec: it completes the registration and starts the sweep; or 'faithsweep cancel ${sweepId}' removes it`,
  });
}

const launchCommand = command({
  name: 'launch',
  summary: 'Register a sweep (models, prompts, work units; idempotent) and start its workflow',
  args: 'SPEC',
  options: { 'task-queue': { type: 'string' } },
  details: [
    '  --task-queue Q   Temporal task queue the workers poll (default faithsweep)',
    'Launching the same spec again writes nothing new and reports the running sweep; a changed spec under an existing name is refused.',
    "A worker ('faithsweep worker') and agents ('faithsweep agent') must be running for the sweep to make progress.",
  ],
  async run(ctx, { values, positionals }) {
    const plan = await planFromFile(ctx, positionals[0]);
    const e = await endpointsFromContext(ctx);
    await checkSchema(ctx, e.databaseUrl);
    const client = await temporalClient(e.temporalAddress);
    const sql = new pg.Client({ connectionString: e.databaseUrl });
    try {
      await sql.connect();
      // Registration of a large sweep takes a while: show how far it is on a terminal.
      const tty = !ctx.json && Boolean(process.stderr.isTTY);
      let shown = 0;
      const reg = await registerSweep(sql, plan, {
        onProgress: (done, total) => {
          if (!tty || Date.now() - shown < 1000) return;
          shown = Date.now();
          process.stderr.write(`\r\x1b[2Kregistering work units: ${done}/${total}`);
        },
      });
      if (shown) process.stderr.write('\r\x1b[2K');
      const taskQueue = (values['task-queue'] as string | undefined) ?? DEFAULT_TASK_QUEUE;
      const state = await startSweepWorkflow(client, reg.sweepId, taskQueue, plan.spec.options.window, e.databaseUrl);
      // As resume: a sweep on a task queue no worker polls stands still, so say so now.
      const noWorkerWarnings: FaithsweepWarning[] = (await liveWorkers(client, taskQueue)) === 0
        ? [{ code: WarningCode.NO_WORKER, message: noWorker(taskQueue).message, hint: "start one with 'npx faithsweep worker' (the local stack: 'npx faithsweep dev up'); the sweep waits for it" }]
        : [];
      if (ctx.json) {
        ctx.out(JSON.stringify({ sweepId: reg.sweepId, workflowId: sweepWorkflowId(reg.sweepId), created: reg.created, resumedRegistration: reg.resumed, workflow: state, workUnits: reg.workUnits, cells: plan.cells, cellsExact: plan.exact, warnings: [...plan.warnings, ...noWorkerWarnings] }));
        return;
      }
      for (const w of noWorkerWarnings) ctx.err(formatWarning(w));
      const what = reg.created ? 'registered' : reg.resumed ? 'registration completed (an earlier launch had stopped half-way)' : 'already registered (same spec)';
      ctx.out(`sweep ${reg.sweepId}: ${what}, ${reg.workUnits} work units, ${plan.exact ? '' : '≈'}${plan.cells} cells; workflow ${state === 'started' ? 'started' : 'already running'}`);
      for (const line of nextStepLines(launchNextSteps(reg.sweepId, e.temporalUiUrl))) ctx.out(line);
    } finally {
      await sql.end().catch(() => undefined);
      await client.connection.close();
    }
  },
});

async function withSql<T>(ctx: CliContext, f: (sql: pg.Client) => Promise<T>): Promise<T> {
  const sql = new pg.Client({ connectionString: await databaseUrlFor(ctx), connectionTimeoutMillis: 5000 });
  try {
    await sql.connect();
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to the database: ${(err as Error).message}`, { hint: "run 'npx faithsweep dev up'" });
  }
  try {
    // Before `db migrate` the tables are missing: say so (as `launch` does), not INTERNAL.
    await assertSchemaCurrent(sql, readMigrations(ctx.paths.migrationsDir));
    return await f(sql);
  } finally {
    await sql.end();
  }
}

async function statusOrThrow(sql: pg.Client, sweepId: string): Promise<SweepStatus> {
  const s = await readSweepStatus(sql, sweepId);
  if (!s) throw new FaithsweepError(ErrorCode.SWEEP_NOT_FOUND, `no sweep named '${sweepId}'`, { hint: "'faithsweep list' shows the sweeps" });
  return s;
}

function statusLines(s: SweepStatus): string[] {
  const frac = s.cells.planned ? s.cells.written / s.cells.planned : 0;
  const lines = [
    `sweep ${s.sweepId}: ${stateLabel(s.state)}`,
    `  work units  ${s.units.done}/${s.units.total} done, ${s.units.running} running, ${s.units.pending} pending, ${s.units.failed} failed`,
    `  cells       ${s.cells.written}/${s.cells.plannedExact ? '' : '≈'}${s.cells.planned} ${progressBar(frac, 24)} ${(frac * 100).toFixed(1)}%`,
    // A rate only means something while the sweep runs (a finished sweep's last minute is its final burst).
    s.status === 'running' ? `  rate        ${s.rate} cells/s over the last minute, ETA ${formatDuration(s.etaSeconds)}` : `  rate        - (${s.status})`,
  ];
  for (const m of s.perModel) lines.push(`  ${m.model.padEnd(22)} ${m.done}/${m.units} units, ${m.cells} cells`);
  if (s.state.detail) lines.push(`  state       ${s.state.detail}`);
  if (s.failures.length) {
    lines.push('  failures:');
    for (const f of s.failures) lines.push(`    ${f.units} unit(s): ${f.reason}`);
  }
  if (s.state.resumeHelps === true) lines.push(`  resume with: npx faithsweep resume ${s.sweepId}`);
  else if (s.state.resumeHelps === false && s.state.failedBadInput > 0) lines.push('  resume cannot help: the failures are bad input (change the spec or its inputs, then launch again)');
  else {
    const next = nextStep(s);
    if (next) lines.push(`  next        ${next}`);
  }
  return lines;
}

/** What to do about a sweep that waits on the researcher (paused, never started, half-registered, failed); null otherwise. */
function nextStep(s: SweepStatus): string | null {
  switch (s.status) {
    case 'paused': return `paused: 'npx faithsweep resume ${s.sweepId}' un-pauses it`;
    case 'planned': return `registered, no workflow started: 'npx faithsweep resume ${s.sweepId}' starts it`;
    case REGISTERING: return `a launch stopped before all its work units were written: 'npx faithsweep launch SPEC' with its spec finishes it, 'npx faithsweep cancel ${s.sweepId}' removes it`;
    case 'failed': return `its workflow failed (the worker's log has the reason): 'npx faithsweep resume ${s.sweepId}' runs what is left`;
    default: return null;
  }
}

const statusCommand = command({
  name: 'status',
  summary: 'Show a sweep: work units by state, cells, rate, ETA, failures with reasons',
  args: 'SWEEP',
  async run(ctx, { positionals }) {
    const sweepId = sweepArg(positionals);
    const s = await withSql(ctx, (sql) => statusOrThrow(sql, sweepId));
    // A running sweep with no worker on its task queue stands still: say so (best effort, 3 s).
    const workers = s.status === 'running' ? await sweepWorkers(ctx, sweepId) : null;
    if (ctx.json) ctx.out(JSON.stringify({ ...s, workers }, null, 2));
    else {
      for (const l of statusLines(s)) ctx.out(l);
      if (workers?.live === 0) ctx.out(`  worker      none polls task queue '${workers.taskQueue}': nothing runs until one starts ('npx faithsweep worker')`);
    }
  },
});

const TERMINAL = new Set(['completed', 'partial', 'cancelled', 'failed']);

const watchCommand = command({
  name: 'watch',
  summary: 'Follow a sweep live: progress bar, rate, ETA and per-agent throughput (from NATS)',
  args: 'SWEEP',
  options: { 'no-wait': { type: 'boolean' } },
  details: [
    'Ends when the sweep completes, is cancelled or fails (Ctrl-C stops watching; the sweep goes on).',
    '  --no-wait   print the current state once and exit',
    'With --json it prints one JSON object per second.',
  ],
  async run(ctx, { values, positionals }) {
    const sweepId = sweepArg(positionals);
    const e = await endpointsFromContext(ctx);
    await checkSchema(ctx, e.databaseUrl);
    return watchSweep(ctx, { databaseUrl: e.databaseUrl, natsUrl: e.natsUrl }, sweepId, { once: Boolean(values['no-wait']) });
  },
});

/**
 * The watch loop, shared with the demo: re-reads the database every few seconds and adds
 * the NATS progress messages in between; renders a bar on a TTY, a line every 5 s otherwise.
 */
export async function watchSweep(ctx: CliContext, urls: { databaseUrl: string; natsUrl: string }, sweepId: string, opts: { once?: boolean; isTTY?: boolean; signal?: AbortSignal } = {}): Promise<number> {
  const sql = new pg.Client({ connectionString: urls.databaseUrl });
  await sql.connect();
  // NATS unreachable: the open database connection would keep the process alive after the error.
  const nats = await connectNats({ url: urls.natsUrl, name: `faithsweep-watch-${sweepId}` }).catch(async (err: unknown) => {
    await sql.end().catch(() => undefined);
    throw err;
  });
  const tty = opts.isTTY ?? Boolean(process.stderr.isTTY);
  const perAgent = new Map<string, { t: number; cells: number }[]>();
  let extra = 0;
  const sub = nats.subscribe(progressSubject(sweepId));
  // A malformed message is reported once (coded), then skipped with the others; watching goes on.
  let badMessages = 0;
  void followProgress(sub, (msg) => {
    if (!msg.cells) return;
    extra += msg.cells;
    const list = perAgent.get(msg.agentId) ?? [];
    list.push({ t: msg.at, cells: msg.cells });
    perAgent.set(msg.agentId, list);
  }, (err) => {
    if (badMessages++ === 0) ctx.err(`warning[${err.code}]: ${err.message}${err.hint ? `\n  hint: ${err.hint} (further malformed messages are skipped silently)` : ''}`);
  });
  // The TTY bar is redrawn in place without a newline: whatever ends the watch (done, --no-wait,
  // abort, an error) ends its line, so that the shell prompt or the error starts on a line of its own.
  let barOpen = false;
  try {
    let s = await statusOrThrow(sql, sweepId);
    let lastRead = Date.now();
    let lastLine = 0;
    for (;;) {
      if (Date.now() - lastRead > 3000) {
        s = await statusOrThrow(sql, sweepId);
        extra = 0;
        lastRead = Date.now();
      }
      const now = Date.now();
      const agents = [...perAgent].map(([id, list]) => {
        const recent = list.filter((x) => now - x.t < 10_000);
        perAgent.set(id, recent);
        return { agent: id, cellsPerSecond: Math.round((recent.reduce((a, x) => a + x.cells, 0) / 10) * 10) / 10 };
      }).filter((a) => a.cellsPerSecond > 0);
      const written = s.cells.written + extra;
      const frac = s.cells.planned ? Math.min(1, written / s.cells.planned) : 0;
      const rate = agents.reduce((a, x) => a + x.cellsPerSecond, 0) || s.rate;
      const eta = rate > 0 ? Math.max(0, s.cells.planned - written) / rate : null;
      const done = TERMINAL.has(s.status) || opts.once;
      const etaText = done ? '-' : formatDuration(eta);
      if (ctx.json) {
        ctx.out(JSON.stringify({ sweepId, status: s.status, state: s.state, units: s.units, cells: { written, planned: s.cells.planned }, rate, etaSeconds: eta === null ? null : Math.round(eta), agents }));
      } else {
        const line = `${progressBar(frac)} ${(frac * 100).toFixed(1).padStart(5)}%  ${written}/${s.cells.plannedExact ? '' : '≈'}${s.cells.planned} cells  units ${s.units.done}/${s.units.total}` +
          `${s.units.failed ? ` (${s.units.failed} failed)` : ''}  ${rate.toFixed(1)} cells/s  ETA ${s.state.name === 'waiting_for_agents' ? '? (waiting for agents)' : !TERMINAL.has(s.status) && s.status !== 'running' ? `? (${stateLabel(s.state)})` : etaText}` +
          (s.state.name === 'waiting_for_agents' ? `  waiting for agents: ${s.state.waitingModels.join(', ')}` : '') +
          (!TERMINAL.has(s.status) && nextStep(s) ? `  ${nextStep(s)}` : '') +
          (agents.length ? `  agents: ${agents.map((a) => `${a.agent} ${a.cellsPerSecond}/s`).join(', ')}` : '');
        if (tty) {
          process.stderr.write(`\r\x1b[2K${line}`);
          barOpen = true;
        }
        else if (now - lastLine >= 5000 || done) {
          ctx.err(line);
          lastLine = now;
        }
      }
      if (done) {
        if (barOpen) process.stderr.write('\n');
        barOpen = false;
        if (!ctx.json && !opts.once) ctx.err(`sweep ${sweepId} ${stateLabel(s.state)}${s.state.detail ? `: ${s.state.detail}` : ''}`);
        return s.status === 'failed' ? 1 : 0;
      }
      if (opts.signal?.aborted) return 0;
      await new Promise((r) => setTimeout(r, ctx.json ? 1000 : 500));
    }
  } finally {
    if (barOpen) process.stderr.write('\n');
    sub.unsubscribe();
    await nats.close();
    await sql.end();
  }
}

const listCommand = command({
  name: 'list',
  summary: 'List the sweeps with their state and progress',
  async run(ctx) {
    const rows = await withSql(ctx, async (sql) => {
      const list = (await sql.query<{ id: string; status: string; units: string; done: string; failed: string; cells: string; createdAt: Date }>(
      `SELECT s.id, s.status, s."createdAt",
              (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = s.id) AS units,
              (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = s.id AND w.status = 'done') AS done,
              (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = s.id AND w.status = 'failed') AS failed,
              (SELECT coalesce(sum(w."doneCells"), 0) FROM "WorkUnit" w WHERE w."sweepId" = s.id) AS cells
         FROM "Sweep" s WHERE s.spec ? 'format' ORDER BY s."createdAt" DESC`)).rows;
      // One client runs one query at a time (pg deprecates queueing on a busy client).
      const withState = [];
      for (const r of list) withState.push({ ...r, state: await readSweepState(sql, r.id) });
      return withState;
    });
    const out = rows.map((r) => ({ sweep: r.id, status: r.status, state: r.state, units: Number(r.units), done: Number(r.done), failed: Number(r.failed), cells: Number(r.cells), created: r.createdAt.toISOString() }));
    if (ctx.json) {
      ctx.out(JSON.stringify(out, null, 2));
      return;
    }
    if (out.length === 0) {
      ctx.out("no sweeps yet: 'npx faithsweep launch examples/demo.yaml'");
      return;
    }
    const w = Math.max(5, ...out.map((r) => r.sweep.length));
    const labels = out.map((r) => stateLabel(r.state));
    const sw = Math.max(5, ...labels.map((l) => l.length));
    ctx.out(`${'SWEEP'.padEnd(w)}  ${'STATE'.padEnd(sw)}  UNITS          CELLS  CREATED`);
    out.forEach((r, i) => {
      ctx.out(`${r.sweep.padEnd(w)}  ${labels[i]!.padEnd(sw)}  ${`${r.done}/${r.units}${r.failed ? ` (${r.failed}✗)` : ''}`.padEnd(12)}  ${String(r.cells).padStart(7)}  ${r.created.slice(0, 19).replace('T', ' ')}`);
    });
  },
});

async function withTemporal<T>(ctx: CliContext, f: (client: Client) => Promise<T>): Promise<T> {
  const e = await endpointsFromContext(ctx);
  const client = await temporalClient(e.temporalAddress);
  try {
    return await f(client);
  } finally {
    await client.connection.close();
  }
}

/** The sweep's running workflow handle and its task queue, or null when it is not running. */
async function runningHandle(client: Client, sweepId: string) {
  const handle = client.workflow.getHandle(sweepWorkflowId(sweepId));
  try {
    const d = await handle.describe();
    return d.status.name === 'RUNNING' ? { handle, taskQueue: d.taskQueue } : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The task queue the sweep's last workflow run used (so `resume` reaches the same workers). */
async function previousTaskQueue(client: Client, sweepId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(sweepWorkflowId(sweepId)).describe()).taskQueue;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** A worker whose last poll is older than this no longer counts (a live one long-polls at least once a minute). */
const WORKER_SEEN_MS = 90_000;

/**
 * How many workers polled `taskQueue` for workflow tasks in the last 90 s, from Temporal's
 * DescribeTaskQueue (its poller list keeps a gone worker for minutes, hence the age filter).
 */
async function liveWorkers(client: Client, taskQueue: string): Promise<number> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (r.pollers ?? []).filter((p) => {
    const t = p.lastAccessTime;
    return t ? now - (Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)) < WORKER_SEEN_MS : false;
  }).length;
}

/** The line a user acts on when no worker polls the sweep's task queue. */
function noWorker(taskQueue: string): FaithsweepError {
  return new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `no worker polls task queue '${taskQueue}', so the sweep's workflow cannot make progress or answer`, {
    hint: "start one with 'npx faithsweep worker' (the local stack: 'npx faithsweep dev up'), then run this again",
  });
}

/**
 * The live workers of a running sweep's task queue, or null when Temporal cannot tell within 3 s
 * (not reachable, no workflow): `status` reads the database and must not hang on Temporal.
 */
async function sweepWorkers(ctx: CliContext, sweepId: string): Promise<{ taskQueue: string; live: number } | null> {
  const ask = withTemporal(ctx, async (client) => {
    const d = await client.workflow.getHandle(sweepWorkflowId(sweepId)).describe();
    return d.status.name === 'RUNNING' ? { taskQueue: d.taskQueue, live: await liveWorkers(client, d.taskQueue) } : null;
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), 3000); });
  try {
    return await Promise.race([ask.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `cancel` of a sweep whose registration never finished: removes it (it has no workflow and no
 * results), unless a launch is registering it right now.
 */
async function cancelRegistration(ctx: CliContext, sql: pg.Client, sweepId: string): Promise<void> {
  const r = await discardRegistration(sql, sweepId);
  if (r.reason === 'busy') {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `sweep '${sweepId}' is being registered by a launch that is still running`, {
      hint: `let that launch finish (then cancel the running sweep), or stop it and run 'faithsweep cancel ${sweepId}' again`,
    });
  }
  if (!r.removed) throw new FaithsweepError(ErrorCode.BAD_ARGS, `sweep '${sweepId}' finished its registration meanwhile`, { hint: `run 'faithsweep cancel ${sweepId}' again` });
  if (ctx.json) ctx.out(JSON.stringify({ sweepId, cancelled: true, removed: true, workUnits: r.workUnits }));
  else ctx.out(`sweep ${sweepId}: its unfinished registration was removed (${r.workUnits} work unit(s) written, no workflow had started). Launch its spec again to register it anew.`);
}

const cancelCommand = command({
  name: 'cancel',
  summary: 'Cancel a sweep: no new work units start; running ones finish; resume later with `resume`',
  args: 'SWEEP',
  options: { wait: { type: 'boolean' } },
  details: [
    '  --wait   wait until the running work units have finished and the sweep is cancelled',
    'A sweep still `registering` (its launch was stopped half-way) is removed instead: it has no workflow and no results.',
  ],
  async run(ctx, { values, positionals }) {
    const sweepId = sweepArg(positionals);
    const registering = await withSql(ctx, async (sql) => {
      if ((await statusOrThrow(sql, sweepId)).status !== REGISTERING) return false;
      await cancelRegistration(ctx, sql, sweepId);
      return true;
    });
    if (registering) return;
    return withTemporal(ctx, async (client) => {
      const running = await runningHandle(client, sweepId);
      if (!running) throw new FaithsweepError(ErrorCode.BAD_ARGS, `sweep '${sweepId}' is not running`, { hint: `'faithsweep status ${sweepId}' shows its state` });
      const { handle, taskQueue } = running;
      // Without a worker the signal is recorded but nothing acts on it: waiting would never end.
      if (values['wait'] && (await liveWorkers(client, taskQueue)) === 0) throw noWorker(taskQueue);
      await handle.signal(SWEEP_SIGNALS.cancel);
      if (values['wait']) await handle.result();
      if (ctx.json) ctx.out(JSON.stringify({ sweepId, cancelled: true, waited: Boolean(values['wait']) }));
      else ctx.out(`sweep ${sweepId}: cancel sent${values['wait'] ? '; cancelled' : ' (running work units finish first)'}. Resume with: npx faithsweep resume ${sweepId}`);
    });
  },
});

const resumeCommand = command({
  name: 'resume',
  summary: 'Resume a sweep: start its workflow again (only work units with missing cells run), or un-pause it',
  args: 'SWEEP',
  options: { 'task-queue': { type: 'string' }, window: { type: 'string' } },
  details: [
    "  --task-queue Q   task queue the workers poll (default: the one the sweep's last run used, else faithsweep)",
    '  --window N       running work units per shard (default: the spec\'s)',
  ],
  async run(ctx, { values, positionals }) {
    const sweepId = sweepArg(positionals);
    const window = parseIntFlag('window', values['window'], { min: 1, max: MAX_WINDOW });
    const spec = await withSql(ctx, async (sql) => {
      // Refused before Temporal is asked: no workflow may start for it.
      if ((await statusOrThrow(sql, sweepId)).status === REGISTERING) throw notRegistered(sweepId);
      return (await sql.query<{ spec: { spec?: { options?: { window?: number } } } }>('SELECT spec FROM "Sweep" WHERE id = $1', [sweepId])).rows[0]!.spec;
    });
    const e = await endpointsFromContext(ctx);
    return withTemporal(ctx, async (client) => {
      const running = await runningHandle(client, sweepId);
      let what: string;
      const warnings: FaithsweepWarning[] = [];
      if (running) {
        const { handle } = running;
        // A query is answered by a worker: without one it would time out with Temporal's own error.
        if ((await liveWorkers(client, running.taskQueue)) === 0) throw noWorker(running.taskQueue);
        const p = await handle.query<SweepProgress>(SWEEP_QUERIES.progress);
        if (p.paused) {
          await handle.signal(SWEEP_SIGNALS.resume);
          what = 'un-paused';
        } else what = 'already running';
        if (window !== undefined) await handle.signal(SWEEP_SIGNALS.setWindow, window);
      } else {
        const taskQueue = (values['task-queue'] as string | undefined) ?? (await previousTaskQueue(client, sweepId)) ?? DEFAULT_TASK_QUEUE;
        await startSweepWorkflow(client, sweepId, taskQueue, window ?? spec.spec?.options?.window, e.databaseUrl);
        what = 'workflow started again';
        if ((await liveWorkers(client, taskQueue)) === 0) {
          warnings.push({ code: WarningCode.NO_WORKER, message: noWorker(taskQueue).message, hint: "start one with 'npx faithsweep worker' (the local stack: 'npx faithsweep dev up'); the sweep waits for it" });
        }
      }
      if (ctx.json) ctx.out(JSON.stringify({ sweepId, result: what, ...(window !== undefined ? { window } : {}), warnings }));
      else {
        for (const w of warnings) ctx.err(formatWarning(w));
        ctx.out(`sweep ${sweepId}: ${what}${window !== undefined ? `, window ${window}` : ''}. Follow it with: npx faithsweep watch ${sweepId}`);
      }
    });
  },
});

export const sweepCommands = [planCommand, launchCommand, statusCommand, watchCommand, listCommand, cancelCommand, resumeCommand];
