// Work units that last longer than one agent call or one activity run (issue: "work units that
// last hours"), on real Temporal, NATS, PostgreSQL, worker processes and the real sweep
// activity: a 20,000-cell work unit on a deliberately slow engine runs across several bounded
// calls and a worker SIGKILL, ends with exactly its planned cells, and computes its clean run
// once; and a work unit whose writes fail with a constraint violation every time (a bug, not
// an outage) ends `failed` with the reason after a bounded number of runs while the sweep completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupDone, LoadedModel, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { GroupEngine, RunGroupOptions } from '../../node-agent/engine/engine.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import { createRegistration, openAgentsBucket } from '../../node-agent/registry/index.ts';
import { createAgentServer } from '../../node-agent/server/index.ts';
import { connectNats } from '../../common/nats/connect.ts';
import { createLogger } from '../../common/log.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import type { Cluster } from './cluster.ts';
import { MODELS_DIR, compareWithPlan, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A slow engine for arith-cot's card: the clean run costs 300 ms, and the interventions are
 * answered at `cellsPerSecond` (each "the answer is the clean one", which is not what this
 * test is about). It records its calls and how many of them ran the clean trajectory from
 * scratch rather than resuming from the stored one (RunGroupRequest.clean).
 */
class SlowEngine implements GroupEngine {
  calls = 0;
  cleanRuns = 0;
  /** Wall time of every call, ms (to its end, or to its cancellation at the caller's deadline). */
  readonly callMs: number[] = [];
  constructor(private readonly model: LoadedModel, private readonly cellsPerSecond: number) {}
  models(): readonly LoadedModel[] { return [this.model]; }
  async runGroup(req: RunGroupRequest, { signal, emit }: RunGroupOptions): Promise<GroupDone> {
    if (req.model !== this.model.name) throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `no model '${req.model}'`);
    this.calls++;
    const t0 = performance.now();
    try {
      return await this.answer(req, signal, emit, t0);
    } finally {
      this.callMs.push(performance.now() - t0);
    }
  }

  private async answer(req: RunGroupRequest, signal: AbortSignal, emit: RunGroupOptions['emit'], t0: number): Promise<GroupDone> {
    const n = req.sampler!.genLength;
    const steps = req.sampler!.steps;
    if (!req.clean) {
      this.cleanRuns++;
      await sleep(300);
    }
    const tokens = req.clean?.tokens ?? Array.from({ length: n }, (_, i) => 3 + (i % 10));
    const commitStep = req.clean?.commitStep ?? Array.from({ length: n }, (_, i) => Math.floor((i * steps) / n));
    emit({ event: { $case: 'trajectory', value: { promptIds: [4, 5, 6], tokens, commitStep, text: 'synthetic', answer: '42', correct: false, filmStrip: [], computeSteps: req.clean ? 0 : steps, commitMargin: [], paraphraseEvents: [] } } });
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((this.cellsPerSecond * tickMs) / 1000));
    for (let i = 0; i < req.interventions.length; i += perTick) {
      await sleep(tickMs);
      if (signal.aborted) throw new AgentError(AgentErrorCode.CANCELLED, 'cancelled');
      for (const iv of req.interventions.slice(i, i + perTick)) {
        emit({ event: { $case: 'result', value: { key: iv.key, answer: '42', text: 'synthetic', flipped: false, correct: false, answerCommittedBefore: false, positionCommittedBefore: false, token: 7, changedTokens: 0, computeSteps: 1, skipped: false, tokens: [], stoppedEarly: false, textPartial: false, outcome: AnswerOutcome.ANSWER_SAME } } });
      }
    }
    return { forwardPasses: 1, branchSteps: req.interventions.length, wallMs: performance.now() - t0 };
  }
}

/** Serves `engine` as an agent registered in the cluster's registry (on loopback, with the cluster's token). */
async function serveAgent(c: Cluster, engine: GroupEngine): Promise<() => Promise<void>> {
  const log = createLogger({ level: 'warn' });
  const agentId = `slow-${randomBytes(3).toString('hex')}`;
  const server = createAgentServer({
    engine, agentId, version: 'test', token: c.env['FAITHSWEEP_AGENT_TOKEN']!, maxConcurrentGroups: 2, maxBatch: 64, log,
    device: { executionProvider: 'cpu', requestedProvider: 'cpu', description: 'slow test engine', intraOpThreads: 1 },
  });
  const port = await server.listen('127.0.0.1', 0);
  const nc = await connectNats({ url: c.nats.url });
  const kv = await openAgentsBucket(nc, { bucket: c.bucket, ttlMs: 3000 });
  const reg = createRegistration({
    kv, agentId, log,
    snapshot: () => ({
      address: `127.0.0.1:${port}`, tls: false, version: 'test',
      models: engine.models().map((m) => ({ name: m.name, sha256: m.sha256 })),
      capacity: { maxConcurrentGroups: 2, inFlight: server.inFlight, maxBatch: 64 },
      device: { executionProvider: 'cpu', description: 'slow test engine' },
    }),
  });
  await reg.start();
  return async () => {
    await reg.deregister().catch(() => undefined);
    await server.drain(0);
    await nc.close();
  };
}

async function completes(c: Cluster, name: string, timeoutMs: number): Promise<void> {
  try {
    await until(`sweep ${name} to complete`, async () => (await sweepState(c, name)).status === 'completed', timeoutMs, 500);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstate: ${JSON.stringify(await sweepState(c, name))}\nunfinished:\n${await unfinishedUnits(c, name)}\nworker log (tail):\n${c.workerLog().slice(-4000)}`, { cause: err });
  }
}

describe('work units longer than one call or one run (real Temporal, NATS, PostgreSQL, worker)', { timeout: 900_000 }, () => {
  let c: Cluster;
  let stopSlow: (() => Promise<void>) | undefined;

  before(async () => {
    requirePrerequisites('the long-work-unit suite', ['arith-cot', 'arith-cot-decoupled']);
    c = await startCluster('long-units');
  });
  after(async () => {
    await stopSlow?.();
    await c?.close();
  });

  it('runs a 20,000-cell work unit across bounded calls and a worker SIGKILL: exactly its cells, the clean run computed once', async () => {
    const card = JSON.parse(readFileSync(join(MODELS_DIR, 'arith-cot', 'model.json'), 'utf8')) as { name: string; sha256: string };
    const engine = new SlowEngine({ name: card.name, sha256: card.sha256, cardJson: JSON.stringify(card), fusedTopk: false }, 1500);
    stopSlow = await serveAgent(c, engine);
    // Calls of at most 2 s: 20,000 cells at 1,500 cells/s need at least 7 of them.
    await c.startWorker(['--call-ms', '2000']);
    const spec = c.writeSpec('long-unit', [
      'name: long-unit',
      'models: [arith-cot]',
      'dataset: {generator: arith, seed: 7, count: 1}',
      // 32 steps × (39 positions × 16 kinds + 1 probe) = 20,000 cells in one work unit.
      'grid:',
      '  positions: ["0-38"]',
      '  steps: ["0-31"]',
      `  kinds: [replace, {replace: second}, {replace: end}, remask, probe, ${Array.from({ length: 12 }, (_, i) => `{replace: {token: ${3 + i}}}`).join(', ')}]`,
      'options: {window: 1}',
      '',
    ].join('\n'));
    const r = await c.cli(['launch', spec, '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
    // Kill the worker once a quarter of the cells are in; a new one takes over after the heartbeat timeout.
    await until('5,000 cells', async () => (await sweepState(c, 'long-unit')).cells >= 5000, 180_000, 200);
    const w = c.worker!;
    w.child.kill('SIGKILL');
    await w.exited;
    const atKill = await sweepState(c, 'long-unit');
    assert.ok(atKill.cells < 20_000, `the work unit was still running when the worker was killed (${atKill.cells} cells)`);
    await c.startWorker(['--call-ms', '2000']);
    await completes(c, 'long-unit', 300_000);

    const cmp = await compareWithPlan(c, 'long-unit');
    assert.equal(cmp.planned, 20_000);
    assert.deepEqual({ missing: cmp.missing.length, extra: cmp.extra.length, rows: cmp.rows, distinct: cmp.distinct }, { missing: 0, extra: 0, rows: 20_000, distinct: 20_000 });
    const wu = await c.db.sql.query<{ status: string; doneCells: number; plannedCells: number; attempts: number }>('SELECT status, "doneCells", "plannedCells", attempts FROM "WorkUnit" WHERE "sweepId" = $1', ['long-unit']);
    assert.deepEqual(wu.rows.map((x) => ({ status: x.status, doneCells: x.doneCells, plannedCells: x.plannedCells })), [{ status: 'done', doneCells: 20_000, plannedCells: 20_000 }]);
    assert.ok(wu.rows[0]!.attempts >= 2, `the work unit ran in ${wu.rows[0]!.attempts} activity runs (one before the kill, one after)`);
    assert.equal(engine.cleanRuns, 1, 'the clean run is computed once; every later call resumes from the stored one');
    assert.ok(engine.calls >= 3, `${engine.calls} agent calls`);
    // Each call ends by its 2 s deadline, plus the time its cancellation takes to arrive on a loaded
    // machine (unbounded, the work unit would be one 13 s call).
    assert.ok(Math.max(...engine.callMs) < 5000, `longest call ${Math.max(...engine.callMs).toFixed(0)} ms`);
    const traj = await c.db.sql.query<{ n: string }>('SELECT count(*) AS n FROM "Trajectory" WHERE "sweepId" = $1', ['long-unit']);
    assert.equal(Number(traj.rows[0]!.n), 1);
    process.stderr.write(`long work unit: ${engine.calls} agent calls, ${engine.cleanRuns} clean run, ${wu.rows[0]!.attempts} activity runs, ${atKill.cells} cells at the kill\n`);
    await stopSlow();
    stopSlow = undefined;
  });

  it('ends a work unit whose writes always violate a constraint as failed, with the reason, after bounded runs; the sweep completes', async () => {
    await c.startAgent('agent-a');
    if (!c.worker || c.worker.child.exitCode !== null) await c.startWorker();
    // A constraint that every cell of one prompt's work units violates: a bug as far as the
    // orchestrator can tell (SQLSTATE 23514, check_violation), not an outage.
    await c.db.sql.query(`CREATE FUNCTION refuse_cells() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM "WorkUnit" w WHERE w.id = NEW."workUnitId" AND w.ordinal = 1) THEN
          RAISE EXCEPTION 'cell % of work unit % violates check refuse_cells', NEW."cellKey", NEW."workUnitId" USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await c.db.sql.query('CREATE TRIGGER refuse_cells BEFORE INSERT ON "Cell" FOR EACH ROW EXECUTE FUNCTION refuse_cells()');
    try {
      const spec = c.writeSpec('bug', [
        'name: bug',
        'models: [arith-cot]',
        'dataset: {generator: arith, seed: 7, count: 3}',
        'grid:',
        '  positions: [{every: 3, of: cot}]',
        '  steps: [0.25, 0.5]',
        '  kinds: [replace]',
        'options: {window: 3}',
        '',
      ].join('\n'));
      const r = await c.cli(['launch', spec, '--task-queue', c.taskQueue, '--json']);
      assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
      // Three runs with 10 s and 20 s between them.
      await completes(c, 'bug', 240_000);
      const units = await c.db.sql.query<{ ordinal: number; status: string; error: string | null }>('SELECT ordinal, status, error FROM "WorkUnit" WHERE "sweepId" = $1 ORDER BY ordinal', ['bug']);
      assert.deepEqual(units.rows.map((u) => [u.ordinal, u.status]), [[0, 'done'], [1, 'failed'], [2, 'done']]);
      const reason = units.rows[1]!.error ?? '';
      assert.match(reason, /^INTERNAL: .*violates check refuse_cells.*\(failed the same way in 3 runs\)$/s);
      const status = await c.cli(['status', 'bug', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /refuse_cells/);
    } finally {
      await c.db.sql.query('DROP TRIGGER IF EXISTS refuse_cells ON "Cell"');
    }
  });
});
