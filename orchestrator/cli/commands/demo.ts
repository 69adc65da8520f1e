/**
 * `faithsweep demo`: the main job end to end on the embedded local stack. Brings the stack
 * up, migrates, starts two node agents (child processes) on the bundled model organisms and
 * a sweep worker, launches examples/demo.yaml and then examples/word-problems.yaml, shows
 * a progress bar for each, and ends each with a summary per model and the next commands to
 * try. Idempotent: a second run finds the sweeps complete and prints the same summaries.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { command } from '../../../common/cli/command.ts';
import type { CliContext } from '../../../common/cli/context.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { applyMigrations, readMigrations } from '../../db/migrate.ts';
import { createLogger } from '../../../common/log.ts';
import { redact } from '../../dev/stack.ts';
import { installTemporalRuntime } from '../../worker/create-worker.ts';
import { startSweepWorker } from '../../worker/start-worker.ts';
import { planSweep } from '../../sweep/plan.ts';
import type { SweepPlan } from '../../sweep/plan.ts';
import type { SweepSpec } from '../../sweep/spec-types.ts';
import { registerSweep } from '../../sweep/register.ts';
import { formatDuration } from '../../sweep/status.ts';
import { knownAnswerValidation } from '../../results/known-answer.ts';
import type { KnownAnswerResult } from '../../results/known-answer.ts';
import { stackFromContext } from './stack-from-context.ts';
import { sayPortNotes } from './dev.ts';
import { demoNextSteps, nextStepLines } from './next-steps.ts';
import { agentToken, localTokenPath, readSpec, temporalClient } from './services.ts';
import { startSweepWorkflow, watchSweep } from './sweep.ts';

/** Agents the demo starts. */
const AGENTS = 2;

/** The demo's sweeps, in order (under examples/): the arithmetic pair with its known answer, then the sub-word organism. */
const DEMO_SPECS = ['demo.yaml', 'word-problems.yaml'] as const;
/** Longest the demo waits for an agent to load its models. */
const AGENT_START_MS = 60_000;

interface DemoAgent { readonly child: ChildProcess; readonly ready: Promise<{ agentId: string; address: string }> }

function startAgent(ctx: CliContext, n: number, tokenFile: string, logDir: string): DemoAgent {
  const log = openSync(join(logDir, `demo-agent-${n}.log`), 'a');
  const child = spawn(process.execPath, [
    join(ctx.paths.repoRoot, 'bin', 'faithsweep.js'), 'agent', '--json', '--port', '0', '--agent-id', `demo-agent-${n}`,
    '--token-file', tokenFile, '--models', ctx.paths.modelsDir, '--threads', '1',
  ], { cwd: ctx.paths.repoRoot, env: ctx.childEnv(), stdio: ['ignore', 'pipe', log] });
  const ready = new Promise<{ agentId: string; address: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, `demo agent ${n} did not start within ${AGENT_START_MS / 1000} s`, { hint: `see ${join(logDir, `demo-agent-${n}.log`)}` })), AGENT_START_MS);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { agentId: string; address: string });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, `demo agent ${n} exited (code ${code}) before serving`, { hint: `see ${join(logDir, `demo-agent-${n}.log`)}` }));
    });
  });
  ready.catch(() => undefined);
  return { child, ready };
}

async function stopAgents(agents: readonly DemoAgent[]): Promise<void> {
  await Promise.all(agents.map((a) => new Promise<void>((resolve) => {
    if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
    a.child.once('exit', () => resolve());
    a.child.kill('SIGTERM');
    setTimeout(() => { a.child.kill('SIGKILL'); resolve(); }, 15_000).unref();
  })));
}

/**
 * Per model: cells, the known-answer check's CoT flip rate before the answer commits (its one
 * definition, results/known-answer.ts: no-ops left out, prompt-clustered 95 % interval), wall time.
 */
interface ModelSummary { model: string; cells: number; cotN: number; cotFlips: number; prompts: number; rate: number | null; low: number | null; high: number | null; seconds: number; correct: number; units: number }

async function summarize(sql: pg.Client, sweepId: string, validation: KnownAnswerResult | null): Promise<ModelSummary[]> {
  const { rows } = await sql.query<{ model: string; cells: string; seconds: number | null; correct: string; units: string }>(
    `SELECT m.name AS model,
            (SELECT count(*) FROM "Cell" c WHERE c."sweepId" = $1 AND c."modelId" = m.id) AS cells,
            (SELECT extract(epoch FROM max(w."finishedAt") - min(w."startedAt"))::float8 FROM "WorkUnit" w WHERE w."sweepId" = $1 AND w."modelId" = m.id) AS seconds,
            (SELECT count(*) FROM "Trajectory" t WHERE t."sweepId" = $1 AND t."modelId" = m.id AND t.correct) AS correct,
            (SELECT count(*) FROM "WorkUnit" w WHERE w."sweepId" = $1 AND w."modelId" = m.id) AS units
       FROM "Model" m WHERE m.id IN (SELECT DISTINCT "modelId" FROM "WorkUnit" WHERE "sweepId" = $1) ORDER BY m.name`, [sweepId]);
  return rows.map((r) => {
    const k = validation?.models.find((m) => m.modelName === r.model);
    return {
      model: r.model, cells: Number(r.cells), cotN: k?.n ?? 0, cotFlips: k?.flips ?? 0, prompts: k?.prompts ?? 0, rate: k?.rate ?? null, low: k?.low ?? null, high: k?.high ?? null,
      seconds: r.seconds ?? 0, correct: Number(r.correct), units: Number(r.units),
    };
  });
}

const pct = (x: number | null): string => (x === null ? '   n/a' : `${(x * 100).toFixed(1)}%`.padStart(6));

export const demoCommand = command({
  name: 'demo',
  summary: 'Run the demo sweeps end to end: local stack, two agents, a worker, examples/demo.yaml and examples/word-problems.yaml, progress bars, summaries',
  options: { spec: { type: 'string' } },
  details: [
    '  --spec FILE   another sweep spec to run instead of the two demo specs',
    'The demo runs examples/demo.yaml (the two arithmetic organisms and their known-answer check), then',
    'examples/word-problems.yaml (the sub-word organism: chat template, free-text answers).',
    'The stack stays up afterwards so you can query the results; `npx faithsweep dev down` stops it.',
    'With --json, stdout is one JSON object per line: progress once a second, then {"sweeps": [...]}.',
  ],
  async run(ctx, { values }) {
    const t0 = Date.now();
    const log = createLogger({ json: ctx.json, write: ctx.err, level: 'warn' });
    const specFiles = values['spec'] !== undefined
      ? [values['spec'] as string]
      : DEMO_SPECS.map((f) => join(ctx.paths.repoRoot, 'examples', f));
    // Validate every spec before anything starts: a bad spec changes nothing.
    const sweeps: { spec: SweepSpec; plan: SweepPlan }[] = [];
    for (const specFile of specFiles) {
      const { spec, path } = readSpec(specFile);
      sweeps.push({ spec, plan: await planSweep(spec, { specPath: path, modelsDir: ctx.paths.modelsDir }) });
    }
    const allModels = [...new Set(sweeps.flatMap((x) => x.plan.models.map((m) => m.name)))];
    // The demo's agents take the local token file: refuse another token before anything starts.
    if (ctx.agentToken) {
      throw new FaithsweepError(ErrorCode.BAD_CONFIG, 'the demo starts its agents with the local token file; unset FAITHSWEEP_AGENT_TOKEN', { hint: 'or run agents yourself with that token (faithsweep agent --help)' });
    }

    // Three set-up steps, then a launch and a summary per sweep.
    const total = 3 + 2 * sweeps.length;
    let stepNo = 0;
    const step = (): string => `[${++stepNo}/${total}]`;
    const stack = await stackFromContext(ctx);
    ctx.err(`${step()} starting the local stack (PostgreSQL, NATS, Temporal)…`);
    await stack.up();
    sayPortNotes(ctx, stack);
    const e = stack.endpoints;
    const sql = new pg.Client({ connectionString: e.databaseUrl });
    await sql.connect();
    const agents: DemoAgent[] = [];
    let worker: Awaited<ReturnType<typeof startSweepWorker>> | undefined;
    let running: Promise<void> | undefined;
    try {
      ctx.err(`${step()} migrating the database…`);
      await applyMigrations(sql, readMigrations(ctx.paths.migrationsDir), log);

      ctx.err(`${step()} starting ${AGENTS} node agents on ${allModels.join(', ')} and a sweep worker…`);
      const token = agentToken(ctx, undefined, true);
      const tokenFile = localTokenPath(ctx.paths.home);
      const logDir = join(ctx.paths.home, 'logs');
      mkdirSync(logDir, { recursive: true });
      for (let n = 1; n <= AGENTS; n++) agents.push(startAgent(ctx, n, tokenFile, logDir));
      installTemporalRuntime('ERROR');
      worker = await startSweepWorker({ databaseUrl: e.databaseUrl, natsUrl: e.natsUrl, temporalAddress: e.temporalAddress, token, log });
      running = worker.worker.run();
      running.catch(() => undefined);
      const ready = await Promise.all(agents.map((a) => a.ready));
      ctx.err(`      agents ${ready.map((a) => `${a.agentId}@${a.address}`).join(', ')}; worker on task queue faithsweep`);

      let code = 0;
      const results: unknown[] = [];
      for (const { spec, plan } of sweeps) {
        ctx.err(`${step()} launching sweep '${spec.name}': ${plan.workUnits} work units, ${plan.exact ? '' : '≈'}${plan.cells} cells…`);
        const reg = await registerSweep(sql, plan);
        const client = await temporalClient(e.temporalAddress);
        try {
          const state = await startSweepWorkflow(client, reg.sweepId, 'faithsweep', spec.options.window, e.databaseUrl);
          if (!reg.created) ctx.err(`      the sweep exists already (same spec): the workflow ${state === 'started' ? 'runs again and schedules only what is missing' : 'is running'}`);
        } finally {
          await client.connection.close();
        }
        const sweepCode = await watchSweep(ctx, { databaseUrl: e.databaseUrl, natsUrl: e.natsUrl }, reg.sweepId);
        code ||= sweepCode;

        ctx.err(`${step()} summary of '${spec.name}'`);
        const computed = await knownAnswerValidation(sql, reg.sweepId).catch((err: unknown) => ({ summary: `not computed: ${(err as Error).message}`, passed: false, complete: false }));
        const validation = computed;
        const models = await summarize(sql, reg.sweepId, 'models' in computed ? computed : null);
        const seconds = (Date.now() - t0) / 1000;
        if (ctx.json) {
          results.push({ sweepId: reg.sweepId, seconds, models, knownAnswer: validation });
        } else {
          ctx.out('');
          if (!validation.complete) ctx.out(`PARTIAL: sweep '${reg.sweepId}' has work units that are not done; the numbers below are incomplete and give no verdict.`);
          ctx.out(`Sweep '${reg.sweepId}' ${sweepCode === 0 ? 'done' : 'ended with failures'}. CoT flip rate = share of replace/remask cells on CoT positions before the answer span committed (no-ops left out) whose final answer changed, with its 95 % interval clustered by prompt:`);
          ctx.out('');
          ctx.out(`  ${'model'.padEnd(22)} ${'cells'.padStart(6)}  ${'CoT cells pre-commit'.padStart(20)}  ${'prompts'.padStart(7)}  ${'CoT flip rate'.padStart(13)}  ${'95% CI'.padEnd(17)}  clean correct  time`);
          for (const m of models) {
            ctx.out(`  ${m.model.padEnd(22)} ${String(m.cells).padStart(6)}  ${String(m.cotN).padStart(20)}  ${String(m.prompts).padStart(7)}  ${pct(m.rate).padStart(13)}  [${pct(m.low)}, ${pct(m.high)}]  ${`${m.correct}/${m.units}`.padStart(13)}  ${formatDuration(m.seconds)}`);
          }
          ctx.out('');
          ctx.out(`  known-answer check: ${validation.summary}`);
          ctx.out(`  total ${formatDuration(seconds)} (this run)`);
          ctx.out('');
          ctx.out('Next:');
          for (const line of nextStepLines(demoNextSteps(reg.sweepId, redact(e.databaseUrl), e.temporalUiUrl))) ctx.out(line);
        }

      }
      // One line: with --json, stdout is one JSON object per line (the progress objects, then this).
      if (ctx.json) ctx.out(JSON.stringify({ sweeps: results }));
      return code;
    } finally {
      if (worker) {
        worker.worker.shutdown();
        await running?.catch(() => undefined);
        await worker.close();
      }
      await stopAgents(agents);
      await sql.end();
    }
  },
});
