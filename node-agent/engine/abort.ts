/** Cancellation checks between denoising steps. */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';

/** Throws CANCELLED when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AgentError(AgentErrorCode.CANCELLED, `work unit cancelled: ${String(signal.reason ?? 'aborted')}`);
}

/** Lets the event loop run (gRPC cancellations, other groups), then checks `signal`. */
export async function stepBoundary(signal: AbortSignal): Promise<void> {
  await yieldTurn();
  throwIfAborted(signal);
}
