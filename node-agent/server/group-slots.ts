/**
 * The agent's admission control: at most `max` groups run at once, none are admitted
 * while draining, and every running group holds an AbortController so that drain can
 * cancel what is left when the grace period ends.
 */
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';

/** Why a running group was aborted by the agent itself (as opposed to by its caller). */
export const DRAIN_ABORT_REASON = new AgentError(AgentErrorCode.AGENT_DRAINING, 'the agent is shutting down: group cancelled at the end of the grace period');

/** A slot held by one running group; release it exactly once, when the engine settles. */
export interface GroupSlot {
  readonly controller: AbortController;
  release(): void;
}

/** Counts and tracks running groups. */
export class GroupSlots {
  readonly #max: number;
  readonly #running = new Set<AbortController>();
  readonly #idleWaiters = new Set<() => void>();
  readonly #onChange: (inFlight: number) => void;
  #draining = false;

  /** @param max maximum concurrent groups (≥ 1); @param onChange called after every admit/release. */
  constructor(max: number, onChange: (inFlight: number) => void = () => {}) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrentGroups must be a positive integer (got ${max})`);
    this.#max = max;
    this.#onChange = onChange;
  }

  /** Groups running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** The concurrency limit. */
  get max(): number {
    return this.#max;
  }

  /** Whether drain has started. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Admits one group. Throws AGENT_DRAINING while draining and AGENT_BUSY when `max`
   * groups already run; never queues (the orchestrator picks another agent instead).
   */
  acquire(): GroupSlot {
    if (this.#draining) throw new AgentError(AgentErrorCode.AGENT_DRAINING, 'the agent is draining for shutdown and takes no new groups');
    if (this.#running.size >= this.#max) {
      throw new AgentError(AgentErrorCode.AGENT_BUSY, `the agent already runs its maximum of ${this.#max} concurrent group(s)`);
    }
    const controller = new AbortController();
    this.#running.add(controller);
    this.#onChange(this.#running.size);
    let released = false;
    return {
      controller,
      release: () => {
        if (released) return;
        released = true;
        this.#running.delete(controller);
        this.#onChange(this.#running.size);
        if (this.#running.size === 0) for (const wake of this.#idleWaiters) wake();
      },
    };
  }

  /** Stops admitting groups (idempotent). */
  startDraining(): void {
    this.#draining = true;
  }

  /** Aborts every running group with {@link DRAIN_ABORT_REASON}. */
  abortAll(): void {
    for (const c of this.#running) c.abort(DRAIN_ABORT_REASON);
  }

  /** Resolves true once no group runs, or false after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.add(wake);
    });
  }
}
