/**
 * The RunGroup handler: authenticates, takes a concurrency slot, runs the group on the
 * engine with an AbortSignal tied to the call (client cancellation, the call's deadline,
 * drain), streams the engine's events, then a final `done` event, then ends the call.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { RunGroupEvent, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Logger } from '../../orchestrator/log.ts';
import type { GroupEngine } from '../engine/engine.ts';
import { AgentError, AgentErrorCode, isAgentError } from '../errors.ts';
import type { GroupSlots } from './group-slots.ts';
import { toServiceError } from './grpc-status.ts';

/** What the handler needs. */
export interface RunGroupDeps {
  readonly engine: GroupEngine;
  readonly slots: GroupSlots;
  /** Throws UNAUTHENTICATED for a call without the shared token. */
  readonly authorize: (call: ServerWritableStream<RunGroupRequest, RunGroupEvent>) => void;
  readonly log: Logger;
}

/** Builds the `runGroup` handler of the Agent service. */
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

    const emit = (event: RunGroupEvent) => {
      if (!finished && !signal.aborted) call.write(event);
    };
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
        release();
      })
      .catch((err: unknown) => deps.log.error('RunGroup handler failed', { reason: (err as Error).message }));
  };
}
