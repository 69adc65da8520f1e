/**
 * A GroupEngine stand-in for tests of the server's plumbing (auth, capacity, cancellation,
 * error mapping, drain) — not of inference, which the agent end-to-end test covers with the
 * real engine. Each group emits a trajectory, then waits until the test releases it.
 */
import type { GroupDone, LoadedModel, RunGroupEvent, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { GroupEngine, RunGroupOptions } from '../../node-agent/engine/engine.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';

/** One group the fake engine is running. */
export interface FakeGroup {
  readonly req: RunGroupRequest;
  readonly signal: AbortSignal;
  /** Emits one result and completes the group. */
  finish(): void;
  /** Fails the group with `err`. */
  fail(err: unknown): void;
}

/** The fake engine plus what the tests observe. */
export interface FakeEngine extends GroupEngine {
  /** Every group started, in order. */
  readonly groups: FakeGroup[];
  /** Resolves with the next group to start. */
  nextGroup(): Promise<FakeGroup>;
}

const MODEL: LoadedModel = { name: 'fake-model', sha256: '0'.repeat(64), cardJson: '{}', fusedTopk: false };

/** Creates a fake engine whose groups run until `finish()`/`fail()` or their signal aborts. */
export function createFakeEngine(): FakeEngine {
  const groups: FakeGroup[] = [];
  const waiters: ((g: FakeGroup) => void)[] = [];
  return {
    groups,
    nextGroup: () => new Promise((resolve) => waiters.push(resolve)),
    models: () => [MODEL],
    runGroup(req: RunGroupRequest, { signal, emit }: RunGroupOptions): Promise<GroupDone> {
      if (req.model !== MODEL.name) return Promise.reject(new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `no model '${req.model}'`));
      return new Promise((resolve, reject) => {
        const trajectory: RunGroupEvent = { event: { $case: 'trajectory', value: { promptIds: [1, 2], tokens: [3], commitStep: [0], text: '3', answer: '3', correct: false, filmStrip: [], commitMargin: [], paraphraseEvents: [], computeSteps: 1 } } };
        emit(trajectory);
        signal.addEventListener('abort', () => reject(new AgentError(AgentErrorCode.CANCELLED, 'aborted')), { once: true });
        const group: FakeGroup = {
          req,
          signal,
          finish: () => {
            for (const i of req.interventions) {
              emit({ event: { $case: 'result', value: { key: i.key, answer: '4', text: '4', flipped: true, correct: false, answerCommittedBefore: false, positionCommittedBefore: false, token: -1, changedTokens: 0, computeSteps: 1, skipped: false, tokens: [], stoppedEarly: false, textPartial: false, outcome: AnswerOutcome.ANSWER_CHANGED } } });
            }
            resolve({ forwardPasses: 1 + req.interventions.length, branchSteps: req.interventions.length, wallMs: 1 });
          },
          fail: reject,
        };
        groups.push(group);
        waiters.shift()?.(group);
      });
    },
  };
}
