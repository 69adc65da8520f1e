/**
 * The sweep activities (the contract is orchestrator/sweep/contract.ts). `runWorkUnit` is
 * the heart: it leases an agent, gets the clean trajectory (first, when the grid needs its
 * spans), resolves the grid against it, asks the agent for the cells still missing, and
 * writes results in batches keyed by the deterministic cell key — so a retry, on this agent
 * or another, completes the work unit without duplicating anything.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { RunGroupEvent, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant } from '../../generated/proto/faithsweep/v1/agent.ts';
import { ERROR_CODE_METADATA_KEY } from '../../common/grpc/status.ts';
import type { AgentPool, Lease } from '../agents/pool.ts';
import type { PrismaClient } from '../db/client.ts';
import { ErrorCode, isFaithsweepError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { NatsConnection } from '../../common/nats/connect.ts';
import type { PendingPage, SweepActivities, SweepOutcome, WorkUnitOutcome } from '../sweep/contract.ts';
import { resolveModelCells } from '../sweep/grid.ts';
import type { PlannedCell, TrajectoryShape } from '../sweep/grid.ts';
import type { ResolvedSampler } from '../sweep/plan.ts';
import { samplerToProto } from '../../common/sampler/settings.ts';
import { UNIT_COUNTS_SQL } from '../sweep/unit-counts.ts';
import { gridNeedsSpans, shapeFor, sweepCellKey } from '../sweep/plan.ts';
import type { StoredSpec } from '../sweep/register.ts';
import type { TrajectoryRow, UnitIdentity } from './cells.ts';
import { progressSubject } from '../sweep/progress-message.ts';
import { cellRow, copyCells, insertTrajectory, isNoop, noopRow, storedUnitCells, trajectoryRow } from './cells.ts';

/** One progress message (JSON) on `progressSubject` (orchestrator/sweep/progress-message.ts). */
export interface ProgressMessage {
  readonly sweepId: string;
  readonly workUnitId: string;
  readonly agentId: string;
  /** Cells written since the previous message of this work unit. */
  readonly cells: number;
  /** `done` / `failed` when the work unit ended. */
  readonly state?: 'done' | 'failed';
  readonly at: number;
}

/** Dependencies of the sweep activities. */
export interface SweepActivityDeps {
  readonly db: PrismaClient;
  /** A plain pg pool, for bulk inserts. */
  readonly sql: pg.Pool;
  readonly nats: NatsConnection;
  readonly log: Logger;
  readonly agents: AgentPool;
  /**
   * Longest one RunGroup call may run. A work unit with more cells than fit is split across
   * calls (each sized from the previous call's measured rate, cut at this deadline with its
   * results so far kept), and across activity runs when the activity's own start-to-close
   * timeout comes near. @default 2 minutes
   */
  readonly callMs?: number;
  /** Interventions sent in a work unit's first call, before a rate is measured. @default 2000 */
  readonly firstCallCells?: number;
  /** Cells written per insert. @default 2000 */
  readonly flushRows?: number;
  /** Longest time results wait before they are written. @default 1000 ms */
  readonly flushMs?: number;
  /** Heartbeat period. @default 2 s */
  readonly heartbeatMs?: number;
  /** A RunGroup call that yields no event for this long is cancelled and retried elsewhere. @default 60 s */
  readonly stallMs?: number;
}

/** The proto intervention of a planned cell. */
function toIntervention(key: string, c: PlannedCell): RunGroupRequest['interventions'][number] {
  const k = c.kind;
  const none = { step: 0, position: 0, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 };
  if (k.kind === 'truncate') return { key, kind: InterventionKind.TRUNCATE, ...none, position: Math.max(0, c.position), ...(c.fraction !== undefined ? { fraction: c.fraction } : {}) };
  if (k.kind === 'paraphrase') return { key, kind: InterventionKind.PARAPHRASE, ...none };
  if (k.kind === 'filler') return { key, kind: InterventionKind.FILLER, ...none };
  if (k.kind === 'probe') return { key, kind: InterventionKind.PROBE, step: c.step, position: 0, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 };
  if (k.kind === 'remask') return { key, kind: InterventionKind.REMASK, step: c.step, position: c.position, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 };
  const variant = k.variant === 'random' ? ReplaceVariant.RANDOM_TOKEN
    : k.variant === 'second' ? ReplaceVariant.SECOND_CHOICE
      : k.variant === 'end' ? ReplaceVariant.END_TOKEN : ReplaceVariant.GIVEN_TOKEN;
  return { key, kind: InterventionKind.REPLACE, step: c.step, position: c.position, variant, token: k.variant === 'given' ? k.token : 0 };
}

/**
 * True for a failure that retrying cannot be expected to cure and that is neither bad input
 * nor an outage: a programming error (TypeError, RangeError, ReferenceError), a PostgreSQL
 * error of a class that is about the statement or the data (22 data exception, 23 integrity
 * constraint violation, 42 syntax or access rule, P0 raised by PL/pgSQL, XX internal), a
 * Prisma request error (P2xxx), an agent's INTERNAL status, or this module's own INTERNAL
 * failures (agents disagree). Everything else, connection errors of every kind included, is
 * taken for an outage and retried without end (a sweep waits out a PostgreSQL or agent restart).
 */
export function isBug(err: unknown): boolean {
  if (err instanceof ApplicationFailure) return err.type === ErrorCode.INTERNAL;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^P2\d{3}$/.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return /^(22|23|42|P0|XX)/.test(code);
  }
  const grpc = err as Partial<ServiceError>;
  if (typeof grpc.code === 'number' && grpc.metadata !== undefined) return grpc.code === GrpcStatus.INTERNAL;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isBug(cause);
}

/** How long a work unit keeps asking busy agents before it gives the attempt back to Temporal. */
const BUSY_RETRY_MS = 120_000;

/** Agent error codes after which retrying cannot help. */
const BAD_INPUT_CODES = new Set(['BAD_INTERVENTION', 'BAD_SAMPLER', 'BAD_REQUEST', 'MODEL_INVALID']);

/** Classifies a failed RunGroup call: bad input fails the work unit; anything else retries elsewhere. */
function classify(err: unknown, lease: Lease, agents: AgentPool): Error {
  if (err instanceof AgentStalled) {
    agents.avoid(lease.agentId);
    return ApplicationFailure.retryable(err.message, ErrorCode.AGENT_UNAVAILABLE);
  }
  const se = err as Partial<ServiceError>;
  if (typeof se.code === 'number') {
    const code = se.metadata?.get(ERROR_CODE_METADATA_KEY)[0]?.toString();
    // The work unit's paraphraser failed (docs/paraphrase.md): the same text would fail again on
    // any agent, so the work unit fails with the reason instead of retrying.
    if (code === 'PARAPHRASE_FAILED') return ApplicationFailure.nonRetryable(`agent ${lease.agentId}: ${se.details ?? se.message}`, ErrorCode.PARAPHRASE_FAILED);
    if (se.code === GrpcStatus.INVALID_ARGUMENT && code && BAD_INPUT_CODES.has(code)) {
      return ApplicationFailure.nonRetryable(`agent ${lease.agentId} rejected the work unit: ${se.details ?? se.message}`, code === 'BAD_INTERVENTION' ? ErrorCode.BAD_INTERVENTION : ErrorCode.BAD_SPEC);
    }
    // An agent's INTERNAL is a bug (its engine threw): retried a bounded number of times by the
    // shard workflow, elsewhere first.
    if (se.code === GrpcStatus.INTERNAL) {
      agents.avoid(lease.agentId);
      return ApplicationFailure.create({ message: `agent ${lease.agentId} (${lease.address}): INTERNAL: ${se.details ?? se.message}`, type: ErrorCode.INTERNAL, nonRetryable: true });
    }
    // UNAVAILABLE (agent gone or draining), DEADLINE_EXCEEDED, MODEL_NOT_FOUND on this agent:
    // try again, elsewhere first. A busy agent (RESOURCE_EXHAUSTED) is not avoided.
    if (se.code !== GrpcStatus.RESOURCE_EXHAUSTED) agents.avoid(lease.agentId);
    return ApplicationFailure.retryable(`agent ${lease.agentId} (${lease.address}): ${GrpcStatus[se.code] ?? se.code}: ${se.details ?? se.message}`, ErrorCode.AGENT_UNAVAILABLE);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The line a work unit's `error` column keeps: `TYPE: message`, TYPE being the failure's
 * code (a FaithsweepError's code, an ApplicationFailure's type) or `Error`; the same shape
 * as the workflow's failure reasons, so that `sweep_state()` can tell bad input from an
 * absent agent (`AGENT_UNAVAILABLE: no live agent has model …`).
 */
export function errorLine(err: unknown): string {
  if (isFaithsweepError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof ApplicationFailure) return `${err.type ?? 'Error'}: ${err.message}`;
  return `Error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Thrown when an agent sends nothing for the stall timeout: the call is cancelled and retried elsewhere. */
class AgentStalled extends Error {}

/**
 * Runs one RunGroup call, passing each event to `onEvent` (awaited, so writes apply
 * back-pressure). A call that yields no event for `stallMs` is cancelled: the activity's
 * heartbeat proves only that this process lives, so a silent agent (a dead peer whose
 * connection never reported an error, a wedged process) must be caught here.
 */
async function streamGroup(lease: Lease, req: RunGroupRequest, deadlineMs: number, stallMs: number, signal: AbortSignal, onEvent: (ev: RunGroupEvent) => Promise<void>): Promise<void> {
  const call = lease.client.runGroup(req, new Metadata(), { deadline: Date.now() + deadlineMs });
  const cancel = (): void => call.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { stalled = true; call.cancel(); }, stallMs);
  };
  arm();
  try {
    for await (const ev of call as AsyncIterable<RunGroupEvent>) {
      clearTimeout(timer);
      await onEvent(ev);
      arm();
    }
  } catch (err) {
    if (stalled) throw new AgentStalled(`agent ${lease.agentId} (${lease.address}) sent nothing for ${stallMs / 1000} s`);
    throw err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', cancel);
    call.cancel();
  }
  if (stalled) throw new AgentStalled(`agent ${lease.agentId} (${lease.address}) sent nothing for ${stallMs / 1000} s`);
}

/** The shape a grid resolves against, from a stored trajectory. */
function shapeOf(sampler: ResolvedSampler, t: Pick<TrajectoryRow, 'cotStart' | 'cotEnd' | 'answerStart' | 'answerEnd'>): TrajectoryShape {
  return shapeFor(sampler, {
    cot: t.cotStart !== null && t.cotEnd !== null ? { start: t.cotStart, end: t.cotEnd } : null,
    answer: t.answerStart !== null && t.answerEnd !== null ? { start: t.answerStart, end: t.answerEnd } : null,
  });
}

/** Creates the sweep activities. */
export function createSweepActivities(deps: SweepActivityDeps): SweepActivities {
  const { db, sql, nats, log, agents } = deps;
  const callMs = deps.callMs ?? 120_000;
  const firstCallCells = deps.firstCallCells ?? 2000;
  const flushRows = deps.flushRows ?? 2000;
  const flushMs = deps.flushMs ?? 1000;
  const heartbeatMs = deps.heartbeatMs ?? 2000;
  const stallMs = deps.stallMs ?? 60_000;
  const specs = new Map<string, StoredSpec>();

  const specOf = async (sweepId: string): Promise<StoredSpec> => {
    const cached = specs.get(sweepId);
    if (cached) return cached;
    const row = await db.sweep.findUnique({ where: { id: sweepId }, select: { spec: true } });
    if (!row) throw ApplicationFailure.nonRetryable(`sweep '${sweepId}' does not exist`, ErrorCode.BAD_SPEC);
    const spec = row.spec as unknown as StoredSpec;
    specs.set(sweepId, spec);
    return spec;
  };

  const publish = (m: ProgressMessage): void => {
    try {
      nats.publish(progressSubject(m.sweepId), JSON.stringify(m));
    } catch (err) {
      log.warn('progress message not published', { error: (err as Error).message });
    }
  };

  async function runWorkUnit({ sweepId, workUnitId }: { sweepId: string; workUnitId: string }): Promise<WorkUnitOutcome> {
    const actx = Context.current();
    const started = Date.now();
    // This run's own deadline (the activity's start-to-close timeout), less a margin for the
    // last writes: no agent call outlives it, and a work unit with cells left when it comes
    // near returns incomplete, for the workflow to run it again (a fresh timeout).
    const attemptMs = actx.info.startToCloseTimeoutMs > 0 ? actx.info.startToCloseTimeoutMs : 10 * 60_000;
    const runEnd = started + attemptMs - Math.min(30_000, Math.max(1000, attemptMs / 10));
    const timeLeft = (): number => runEnd - Date.now();
    const wu = await db.workUnit.findUnique({ where: { id: workUnitId }, include: { prompt: true } });
    if (!wu || wu.sweepId !== sweepId) throw ApplicationFailure.nonRetryable(`work unit '${workUnitId}' of sweep '${sweepId}' does not exist`, ErrorCode.BAD_SPEC);
    if (wu.status === 'done') return { workUnitId, cellsWritten: 0, cellsTotal: wu.plannedCells, agentId: wu.agentId ?? '', complete: true };
    const stored = await specOf(sweepId);
    // The entry of the spec's model list (one model file may be listed with several samplers).
    const model = stored.models[wu.modelIndex];
    if (!model || model.id !== wu.modelId) throw ApplicationFailure.nonRetryable(`model ${wu.modelId} is not part of sweep '${sweepId}'`, ErrorCode.BAD_SPEC);
    const id: UnitIdentity = { sweepId, workUnitId, modelId: wu.modelId, promptId: wu.promptId, seed: wu.seed };
    await db.workUnit.update({ where: { id: workUnitId }, data: { status: 'running', attempts: { increment: 1 }, startedAt: wu.startedAt ?? new Date(), error: null } });

    let written = 0;
    let lastAgent = '';
    let lastBeat = 0;
    const beat = (force = false): void => {
      if (!force && Date.now() - lastBeat < heartbeatMs) return;
      lastBeat = Date.now();
      actx.heartbeat({ written });
    };
    const timer = setInterval(() => beat(true), heartbeatMs);
    timer.unref();
    const baseRequest: RunGroupRequest = {
      model: model.name,
      modelSha256: model.sha256,
      // Chat-rendered prompts go as the token ids the plan stored (exactly what SQL shows);
      // raw prompts as text, which the agent tokenizes.
      prompt: wu.prompt.renderedText ?? wu.prompt.text,
      promptIds: wu.prompt.promptIds ?? [],
      seed: wu.seed >>> 0,
      sampler: samplerToProto(model.sampler),
      interventions: [],
      goldAnswer: wu.prompt.goldAnswer,
      recordFilmStrip: wu.prompt.idx < stored.spec.options.filmStripPrompts,
      disableSkip: false,
      maxBatch: 0,
      returnTokens: false,
    };

    // One leased call; `onEvent` sees its events. An agent that is busy (RESOURCE_EXHAUSTED:
    // another worker, or a slot not yet freed) is asked again shortly, here, without spending
    // one of the activity's attempts; every other failure goes to classify().
    // `sinceCallMs`: milliseconds from this call's request to this event's arrival (the worker's clock).
    // A call cut by its own deadline after it sent something returns normally (`cut`): what it
    // sent is kept and the caller asks again for the rest.
    const withAgent = async (req: RunGroupRequest, deadlineMs: number, onEvent: (ev: RunGroupEvent, lease: Lease, sinceCallMs: number) => Promise<void>): Promise<{ cut: boolean }> => {
      const busySince = Date.now();
      for (let tries = 0; ; tries++) {
        const lease = await agents.lease(model.sha256, actx.cancellationSignal);
        lastAgent = lease.agentId;
        let events = 0;
        const callStart = performance.now();
        try {
          await streamGroup(lease, req, deadlineMs, stallMs, actx.cancellationSignal, (ev) => {
            events++;
            return onEvent(ev, lease, performance.now() - callStart);
          });
          return { cut: false };
        } catch (err) {
          if (actx.cancellationSignal.aborted) throw err;
          if (events > 0 && (err as Partial<ServiceError>).code === GrpcStatus.DEADLINE_EXCEEDED) return { cut: true };
          const busy = events === 0 && (err as Partial<ServiceError>).code === GrpcStatus.RESOURCE_EXHAUSTED;
          if (!busy || Date.now() - busySince > BUSY_RETRY_MS) throw classify(err, lease, agents);
        } finally {
          lease.release();
        }
        beat();
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(tries, 4)) * (0.5 + Math.random())));
      }
    };

    const ingestTrajectory = async (t: TrajectoryRow, computeMs: number | null): Promise<void> => {
      const storedTokens = await insertTrajectory(sql, id, model.sampler, t, computeMs);
      if (storedTokens.join(',') !== t.tokens.join(',')) {
        throw ApplicationFailure.nonRetryable(`the clean run on agent ${lastAgent} differs from the stored one: agents disagree (different execution providers?)`, ErrorCode.INTERNAL);
      }
    };

    try {
      // 1. The clean trajectory: stored already, or run now when the grid needs its spans.
      type Spans = Pick<TrajectoryRow, 'cotStart' | 'cotEnd' | 'answerStart' | 'answerEnd' | 'commitStep' | 'tokens' | 'answer' | 'finalText' | 'correct' | 'answerCommitStep'>;
      let traj: Spans | null = await db.trajectory.findUnique({
        where: { workUnitId },
        select: { cotStart: true, cotEnd: true, answerStart: true, answerEnd: true, commitStep: true, tokens: true, answer: true, finalText: true, correct: true, answerCommitStep: true },
      });
      const autoregressive = model.kind === 'autoregressive';
      const needsSpans = gridNeedsSpans(stored.spec, autoregressive);
      if (!traj && needsSpans) {
        await withAgent(baseRequest, Math.max(1000, Math.min(callMs, timeLeft())), async (ev) => {
          if (ev.event?.$case === 'trajectory') {
            const t = trajectoryRow(ev.event.value);
            await ingestTrajectory(t, null);
            traj = t;
          }
        });
        if (!traj) throw ApplicationFailure.retryable(`agent ${lastAgent} sent no trajectory`, ErrorCode.AGENT_UNAVAILABLE);
        beat();
      }
      // 2. The grid, resolved against the trajectory (or the sampler's shape when no spans are named).
      let cells: PlannedCell[];
      try {
        cells = resolveModelCells(stored.spec, autoregressive, traj ? shapeOf(model.sampler, traj) : shapeFor(model.sampler));
      } catch (err) {
        if (isFaithsweepError(err)) throw ApplicationFailure.nonRetryable(err.message, ErrorCode.BAD_SPEC);
        throw err;
      }
      const byKey = new Map(cells.map((c) => [sweepCellKey(wu.ordinal, c.key), c]));
      if (wu.plannedCells !== cells.length) await db.workUnit.update({ where: { id: workUnitId }, data: { plannedCells: cells.length } });
      const existing = await storedUnitCells(sql, id, [...byKey.keys()]);
      let missing = [...byKey].filter(([k]) => !existing.has(k));
      // No-ops known before running (the clean run is stored: a remask of a position still masked
      // at t, a given replacement equal to the committed token) are written without the agent.
      const known = traj as Spans | null;
      if (known && missing.length > 0) {
        const noops = missing.filter(([, c]) => isNoop(c.kind.kind, c.step, c.position, c.kind.kind === 'replace' && c.kind.variant === 'given' ? c.kind.token : null, known, autoregressive));
        if (noops.length > 0) {
          written += await copyCells(sql, id, noops.map(([k, c]) => noopRow(k, c, known)));
          const done = new Set(noops.map(([k]) => k));
          missing = missing.filter(([k]) => !done.has(k));
        }
      }

      // 3. The missing cells (and the trajectory, when it was not needed first), in calls each
      // bounded by `callMs` and by this run's deadline. The first call sends `firstCallCells`,
      // later ones as many as the measured rate fits in 70 % of the time left; a call cut at its
      // deadline keeps what it sent. Once the clean run is stored every call resumes from it.
      let spans: Spans | null = traj;
      let calls = 0;
      let rate: number | null = null;
      while (missing.length > 0 || !spans) {
        const budget = Math.min(callMs, timeLeft());
        if (calls > 0 && budget < Math.min(callMs, 5000)) break;
        const n = rate === null ? firstCallCells : Math.max(1, Math.floor(rate * budget * 0.7));
        const chunk = missing.slice(0, n);
        const got = new Set<string>();
        let buffer: ReturnType<typeof cellRow>[] = [];
        let bufferedAt = Date.now();
        let published = written;
        const flush = async (agentId: string): Promise<void> => {
          if (buffer.length === 0) return;
          const rows = buffer;
          buffer = [];
          written += await copyCells(sql, id, rows);
          publish({ sweepId, workUnitId, agentId, cells: written - published, at: Date.now() });
          published = written;
          beat();
        };
        const clean = spans as Spans | null;
        const callStart = Date.now();
        const { cut } = await withAgent({
          ...baseRequest,
          interventions: chunk.map(([k, c]) => toIntervention(k, c)),
          ...(clean ? { clean: { tokens: clean.tokens, commitStep: clean.commitStep }, recordFilmStrip: false } : {}),
        }, Math.max(1000, budget), async (ev, lease, sinceCallMs) => {
          const e = ev.event;
          if (e?.$case === 'trajectory') {
            if (!spans) {
              const t = trajectoryRow(e.value);
              await ingestTrajectory(t, null);
              spans = t;
            }
          } else if (e?.$case === 'result') {
            const planned = byKey.get(e.value.key);
            if (!planned || !spans) throw ApplicationFailure.nonRetryable(`agent ${lease.agentId} answered an unknown key '${e.value.key}'`, ErrorCode.INTERNAL);
            got.add(e.value.key);
            buffer.push(cellRow(e.value.key, planned, e.value, spans, Math.round(sinceCallMs)));
            if (buffer.length >= flushRows || Date.now() - bufferedAt >= flushMs) {
              await flush(lease.agentId);
              bufferedAt = Date.now();
            }
          } else if (e?.$case === 'done') {
            await flush(lease.agentId);
          }
        });
        await flush(lastAgent);
        calls++;
        rate = got.size / Math.max(1, Date.now() - callStart);
        if (!spans) throw ApplicationFailure.retryable(`agent ${lastAgent} sent no trajectory`, ErrorCode.AGENT_UNAVAILABLE);
        if (!cut && got.size < chunk.length) throw ApplicationFailure.retryable(`agent ${lastAgent} answered ${got.size} of ${chunk.length} interventions`, ErrorCode.AGENT_UNAVAILABLE);
        missing = missing.filter(([k]) => !got.has(k));
        log.debug('agent call', { workUnitId, calls, cells: got.size, left: missing.length, cut });
      }
      if (missing.length > 0) {
        // Out of time with cells left: hand the work unit back to the workflow, which runs it
        // again at once (its cells so far are kept, the clean run is stored).
        await db.workUnit.update({ where: { id: workUnitId }, data: { status: 'pending', agentId: lastAgent || null, doneCells: cells.length - missing.length } });
        return { workUnitId, cellsWritten: written, cellsTotal: cells.length, agentId: lastAgent, complete: false };
      }

      // 4. Complete only when every planned cell is in.
      const n = (await storedUnitCells(sql, id, [...byKey.keys()])).size;
      if (n < cells.length) throw ApplicationFailure.retryable(`work unit has ${n} of ${cells.length} cells after the agent finished`, ErrorCode.AGENT_UNAVAILABLE);
      await db.workUnit.update({
        where: { id: workUnitId },
        data: { status: 'done', doneCells: n, agentId: lastAgent || wu.agentId, finishedAt: new Date(), durationMs: Date.now() - started, error: null },
      });
      publish({ sweepId, workUnitId, agentId: lastAgent, cells: 0, state: 'done', at: Date.now() });
      return { workUnitId, cellsWritten: written, cellsTotal: cells.length, agentId: lastAgent, complete: true };
    } catch (thrown) {
      // A bug (not bad input, not an outage) fails this run for good: the shard workflow retries
      // it a bounded number of times, then records the work unit as failed with this reason.
      const err = !(thrown instanceof ApplicationFailure) && isBug(thrown)
        ? ApplicationFailure.create({ message: errorLine(thrown).replace(/^Error: /, ''), type: ErrorCode.INTERNAL, nonRetryable: true, cause: thrown instanceof Error ? thrown : undefined })
        : thrown;
      if (err instanceof ApplicationFailure && err.type === ErrorCode.PARAPHRASE_FAILED) {
        // Nothing half-written: a paraphrase can fail in a branch after the clean run and some
        // cells were stored; the work unit fails as a whole, so its rows go in one transaction.
        await db.$transaction([db.cell.deleteMany({ where: { sweepId, workUnitId } }), db.trajectory.deleteMany({ where: { workUnitId } }), db.workUnit.update({ where: { id: workUnitId }, data: { doneCells: 0 } })]);
      }
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable || err.type === ErrorCode.INTERNAL) {
        await db.workUnit.update({ where: { id: workUnitId }, data: { status: 'pending', agentId: lastAgent || null, error: errorLine(err).slice(0, 500) } }).catch(() => undefined);
      }
      if (isFaithsweepError(err)) throw ApplicationFailure.retryable(err.message, err.code);
      throw err;
    } finally {
      clearInterval(timer);
    }
  }

  return {
    async countWorkUnits({ sweepId }) {
      const { _max } = await db.workUnit.aggregate({ where: { sweepId }, _max: { ordinal: true } });
      return _max.ordinal === null ? 0 : _max.ordinal + 1;
    },
    async pendingWorkUnits({ sweepId, from, to, limit }): Promise<PendingPage> {
      const rows = await db.workUnit.findMany({
        where: { sweepId, ordinal: { gte: from, lt: to }, status: { not: 'done' } },
        orderBy: { ordinal: 'asc' },
        take: limit,
        select: { id: true, ordinal: true },
      });
      const last = rows.at(-1);
      return { units: rows.map((r) => ({ workUnitId: r.id, ordinal: r.ordinal })), next: rows.length === limit && last ? last.ordinal + 1 : null };
    },
    runWorkUnit,
    async failWorkUnit({ sweepId, workUnitId, reason }) {
      await db.workUnit.update({ where: { id: workUnitId }, data: { status: 'failed', error: reason.slice(0, 2000), finishedAt: new Date() } });
      publish({ sweepId, workUnitId, agentId: '', cells: 0, state: 'failed', at: Date.now() });
      log.warn('work unit failed', { sweepId, workUnitId, reason });
    },
    async finishSweep({ sweepId }): Promise<SweepOutcome> {
      // One statement: the counts and the status they imply are read and written together.
      const rows = await db.$queryRawUnsafe<{ total: number; done: number; failed: number; pending: number; status: 'completed' | 'partial' }[]>(`
        WITH c AS (${UNIT_COUNTS_SQL}), u AS (
          UPDATE "Sweep" s SET status = CASE WHEN c.unfinished > 0 THEN 'partial' ELSE 'completed' END,
                 "finishedAt" = now(), "updatedAt" = now()
            FROM c WHERE s.id = $1
          RETURNING s.status
        )
        SELECT c.total, c.done, c.failed, c.unfinished AS pending, u.status FROM c, u`, sweepId);
      const r = rows[0];
      if (!r) throw ApplicationFailure.nonRetryable(`sweep '${sweepId}' does not exist`, ErrorCode.SWEEP_NOT_FOUND);
      publish({ sweepId, workUnitId: '', agentId: '', cells: 0, at: Date.now() });
      if (r.pending > 0) log.warn('sweep finished with work units pending: status partial', { sweepId, pending: r.pending });
      return r;
    },
    async setSweepStatus({ sweepId, status }) {
      const now = new Date();
      await db.sweep.update({
        where: { id: sweepId },
        data: {
          status,
          ...(status === 'running' ? { startedAt: now, finishedAt: null } : {}),
          ...(status === 'completed' || status === 'cancelled' || status === 'failed' ? { finishedAt: now } : {}),
        },
      });
      publish({ sweepId, workUnitId: '', agentId: '', cells: 0, at: now.getTime() });
    },
  };
}
