/**
 * Errors of the node agent. Each carries a stable code, one of faithsweep's {@link ErrorCode}s
 * (common/errors.ts is the one list); the gRPC layer maps them to status codes (see
 * `grpcStatusFor` in common/grpc/status.ts) and sends the code in the trailing metadata key
 * `faithsweep-error-code`. Thrown by the agent and by the code both sides share (model cards,
 * sampler settings), which the orchestrator turns into CLI errors with a hint.
 */
import type { ErrorCode } from './errors.ts';

/** The error codes the agent sends (a subset of {@link ErrorCode}). */
export const AgentErrorCode = {
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  MODEL_INVALID: 'MODEL_INVALID',
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_SAMPLER: 'BAD_SAMPLER',
  BAD_INTERVENTION: 'BAD_INTERVENTION',
  AGENT_BUSY: 'AGENT_BUSY',
  AGENT_DRAINING: 'AGENT_DRAINING',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  CANCELLED: 'CANCELLED',
  /** The requested execution provider (--device) cannot be loaded on this machine. */
  DEVICE_UNAVAILABLE: 'DEVICE_UNAVAILABLE',
  /** A graph's per-row output does not fit the agent's --memory-budget. */
  MEMORY_BUDGET: 'MEMORY_BUDGET',
  /** A non-loopback address without TLS (the shared token would cross the network in clear). */
  INSECURE_LISTEN: 'INSECURE_LISTEN',
  /** A paraphrase-remask event's paraphraser failed (timeout, exit status, empty or garbage reply, text the tokenizer cannot represent). */
  PARAPHRASE_FAILED: 'PARAPHRASE_FAILED',
} as const satisfies Record<string, ErrorCode>;

/** One of the agent's error codes. */
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

/** A coded agent error. */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

/** True for an {@link AgentError}. */
export function isAgentError(err: unknown): err is AgentError {
  return err instanceof AgentError;
}
