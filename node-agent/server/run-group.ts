/**
 * The RunGroup handler: authenticates, takes a concurrency slot, runs the group on the
 * engine with an AbortSignal tied to the call (client cancellation, the call's deadline,
 * drain), streams the engine's events, then a final `done` event, then ends the call.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { RunGroupEvent, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Logger } from '../../common/log.ts';
import type { GroupEngine } from '../engine/engine.ts';
import { AgentError, AgentErrorCode, isAgentError } from '../../common/agent-errors.ts';
import type { GroupSlots } from './group-slots.ts';
import { toServiceError } from '../../common/grpc/status.ts';

/** What the handler needs. */
export interface RunGroupDeps {
  readonly engine: GroupEngine;
  readonly slots: GroupSlots;
  /** Throws UNAUTHENTICATED for a call without the shared token. */
  readonly authorize: (call: ServerWritableStream<RunGroupRequest, RunGroupEvent>) => void;
  readonly log: Logger;
}

/** Builds the `runGroup` handler of the Agent service. */
/**
 * After this long without sending anything, a running group sends a `GroupAlive` event. Well
 * under the orchestrator's stall timeout (60 s by default, `worker --stall-ms`), so only an
 * agent that is really stuck or gone is cancelled.
 */
export const KEEPALIVE_MS = 5000;

export function runGroupHandler(deps: RunGroupDeps): (call: ServerWritableStream<RunGroupRequest, RunGroupEvent>) => void {
  return (call) => {
    let slot;
    try {
      deps.authorize(call);
      slot = deps.slots.acquire();
    } catch (err) {
      deps.log.warn('RunGroup refused', { peer: call.getPeer(), code: isAgentError(err) ? err.code : 'INTERNAL', reason: (err as Error).message });
      call.emit('error', toServiceError(err));
      return;
    }
    const { controller, release } = slot;
    const { signal } = controller;
    const started = performance.now();
    const req = call.request;
    let finished = false;

    const finish = (outcome: { ok: true; event: RunGroupEvent } | { ok: false; error: unknown }) => {
      if (finished) return;
      finished = true;
      if (outcome.ok) {
        call.write(outcome.event);
        call.end();
      } else {
        call.emit('error', toServiceError(outcome.error));
      }
    };

    call.on('cancelled', () => controller.abort(new AgentError(AgentErrorCode.CANCELLED, 'the client cancelled the call')));
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const deadlineTimer = Number.isFinite(deadlineMs)
      ? setTimeout(() => controller.abort(new AgentError(AgentErrorCode.CANCELLED, 'the call deadline passed')), Math.max(0, deadlineMs - Date.now()))
      : undefined;
    // The caller hears the status as soon as the group is aborted; the slot stays taken until
    // the engine has actually stopped, so inFlight counts real compute.
    signal.addEventListener('abort', () => finish({ ok: false, error: signal.reason }), { once: true });

    let lastWrite = performance.now();
    const emit = (event: RunGroupEvent) => {
      if (finished || signal.aborted) return;
      lastWrite = performance.now();
      call.write(event);
    };
    // A group whose branches all run to the end may send nothing for minutes: say it is alive.
    const aliveTimer = setInterval(() => {
      if (performance.now() - lastWrite >= KEEPALIVE_MS) emit({ event: { $case: 'alive', value: { elapsedMs: performance.now() - started } } });
    }, KEEPALIVE_MS / 2);
    aliveTimer.unref();
    deps.log.info('group started', { model: req.model, interventions: req.interventions.length, inFlight: deps.slots.inFlight });
    Promise.resolve()
      .then(() => deps.engine.runGroup(req, { signal, emit }))
      .then(
        (done) => {
          deps.log.info('group done', { model: req.model, wallMs: Math.round(performance.now() - started) });
          finish({ ok: true, event: { event: { $case: 'done', value: done } } });
        },
        (err: unknown) => {
          const error = signal.aborted ? signal.reason : err;
          const level = isAgentError(error) ? 'info' : 'error';
          deps.log[level]('group failed', { model: req.model, code: isAgentError(error) ? error.code : 'INTERNAL', reason: (error as Error).message });
          finish({ ok: false, error });
        },
      )
      .finally(() => {
        clearTimeout(deadlineTimer);
        clearInterval(aliveTimer);
        release();
      })
      .catch((err: unknown) => deps.log.error('RunGroup handler failed', { reason: (err as Error).message }));
  };
}
