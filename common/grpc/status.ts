/**
 * How agent errors cross the wire: each {@link AgentErrorCode} maps to one gRPC status,
 * and the code itself travels in the trailing metadata key {@link ERROR_CODE_METADATA_KEY}
 * so that clients can branch on the stable code rather than on message text.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { AgentErrorCode, isAgentError } from '../agent-errors.ts';

/** Trailing metadata key that carries the agent's error code (see agent.proto). */
export const ERROR_CODE_METADATA_KEY = 'faithsweep-error-code';

/** Code sent for failures that are not {@link AgentError}s (engine bugs, I/O failures). */
export const INTERNAL_ERROR_CODE = 'INTERNAL';

/**
 * The gRPC status for an agent error code. Every input error, MODEL_NOT_FOUND included,
 * answers INVALID_ARGUMENT, as agent.proto promises; a client that wants to tell "this agent
 * lacks the model (try another)" from "the request is wrong" reads the trailing code.
 */
export function grpcStatusFor(code: AgentErrorCode): GrpcStatus {
  switch (code) {
    case AgentErrorCode.MODEL_NOT_FOUND:
    case AgentErrorCode.MODEL_INVALID:
    case AgentErrorCode.BAD_REQUEST:
    case AgentErrorCode.BAD_SAMPLER:
    case AgentErrorCode.BAD_INTERVENTION:
      return GrpcStatus.INVALID_ARGUMENT;
    case AgentErrorCode.AGENT_BUSY:
    case AgentErrorCode.MEMORY_BUDGET:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case AgentErrorCode.AGENT_DRAINING:
    case AgentErrorCode.DEVICE_UNAVAILABLE:
      return GrpcStatus.UNAVAILABLE;
    case AgentErrorCode.CANCELLED:
      return GrpcStatus.CANCELLED;
    case AgentErrorCode.UNAUTHENTICATED:
      return GrpcStatus.UNAUTHENTICATED;
    case AgentErrorCode.INSECURE_LISTEN:
    case AgentErrorCode.PARAPHRASE_FAILED:
      return GrpcStatus.FAILED_PRECONDITION;
  }
}

/**
 * Converts any thrown value into a status object for a server call: an {@link AgentError}
 * keeps its code and message; anything else becomes INTERNAL with code `INTERNAL`.
 */
export function toStatus(err: unknown): Partial<StatusObject> & { code: GrpcStatus; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  if (isAgentError(err)) {
    metadata.set(ERROR_CODE_METADATA_KEY, err.code);
    return { code: grpcStatusFor(err.code), details: err.message, metadata };
  }
  metadata.set(ERROR_CODE_METADATA_KEY, INTERNAL_ERROR_CODE);
  const message = err instanceof Error ? err.message : String(err);
  return { code: GrpcStatus.INTERNAL, details: `agent internal error: ${message}`, metadata };
}

/** The status of {@link toStatus} shaped as the `ServiceError` grpc-js handlers pass on. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const s = toStatus(err);
  return Object.assign(new Error(s.details), s);
}

/** Reads the agent error code from a client-side error's trailing metadata, if any. */
export function errorCodeOf(err: unknown): string | undefined {
  const md = (err as { metadata?: unknown } | null)?.metadata;
  if (!(md instanceof Metadata)) return undefined;
  const v = md.get(ERROR_CODE_METADATA_KEY)[0];
  return typeof v === 'string' ? v : v?.toString('utf8');
}
