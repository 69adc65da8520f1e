/**
 * The one error hierarchy of faithsweep. Every error a user can cause carries a stable
 * code from {@link ErrorCode}, a one-line message that names the bad input, and a hint
 * that says what to do. The same codes are used as Temporal `ApplicationFailure` types and,
 * for the node agent's errors (common/agent-errors.ts, a subset of these codes), in the gRPC
 * trailing metadata `faithsweep-error-code`.
 */

/** Stable error codes, shared by the CLI, activities and workflows. */
export const ErrorCode = {
  BAD_ARGS: 'BAD_ARGS',
  BAD_CONFIG: 'BAD_CONFIG',
  BAD_SPEC: 'BAD_SPEC',
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  TOOL_MISSING: 'TOOL_MISSING',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  SERVICE_START_FAILED: 'SERVICE_START_FAILED',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  MIGRATION_MODIFIED: 'MIGRATION_MODIFIED',
  SCHEMA_OUTDATED: 'SCHEMA_OUTDATED',
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  MODEL_INVALID: 'MODEL_INVALID',
  AGENT_UNAVAILABLE: 'AGENT_UNAVAILABLE',
  DEVICE_UNAVAILABLE: 'DEVICE_UNAVAILABLE',
  MEMORY_BUDGET: 'MEMORY_BUDGET',
  BAD_INTERVENTION: 'BAD_INTERVENTION',
  SWEEP_NOT_FOUND: 'SWEEP_NOT_FOUND',
  QUERY_FAILED: 'QUERY_FAILED',
  QUERY_READ_ONLY: 'QUERY_READ_ONLY',
  QUERY_TIMEOUT: 'QUERY_TIMEOUT',
  OUTPUT_FAILED: 'OUTPUT_FAILED',
  CHAT_TEMPLATE_FAILED: 'CHAT_TEMPLATE_FAILED',
  /** A message on a NATS subject that is not what its publisher sends (skipped, never fatal). */
  BAD_MESSAGE: 'BAD_MESSAGE',
  /** Agent: a RunGroup request that is malformed (no cells, unknown kind, …). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** Agent: sampler settings the model cannot run (steps, lengths, remasking, mode). */
  BAD_SAMPLER: 'BAD_SAMPLER',
  /** Agent: every group slot is taken (gRPC RESOURCE_EXHAUSTED; ask again or another agent). */
  AGENT_BUSY: 'AGENT_BUSY',
  /** Agent: shutting down, takes no new groups (gRPC UNAVAILABLE). */
  AGENT_DRAINING: 'AGENT_DRAINING',
  /** Agent: a call without the shared token, or with a wrong one. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Agent: the group was cancelled (client gone, drain deadline). */
  CANCELLED: 'CANCELLED',
  /** Agent: a non-loopback address without TLS (the shared token would cross the network in clear). */
  INSECURE_LISTEN: 'INSECURE_LISTEN',
  INTERNAL: 'INTERNAL',
  /** A paraphrase-remask event's paraphraser failed (timeout, exit status, empty or garbage reply); the work unit fails. */
  PARAPHRASE_FAILED: 'PARAPHRASE_FAILED',
} as const;

/**
 * Stable warning codes: input that is accepted but probably not what was meant. Warnings are
 * printed as `warning[CODE]: message` on stderr and listed in `--json` output as
 * `warnings: [{code, message, hint}]`; they never change the exit status.
 */
export const WarningCode = {
  /** A prompt that does not match the model card's `prompt_format` (e.g. unpadded operands). */
  PROMPT_FORMAT_MISMATCH: 'PROMPT_FORMAT_MISMATCH',
  /** A sweep of very many prompts (orchestrator/sweep/spec-schema.ts LARGE_PROMPT_COUNT): an extra zero or an exponent typed by mistake? */
  LARGE_PROMPT_COUNT: 'LARGE_PROMPT_COUNT',
  /** A sweep's workflow was started but no worker polls its task queue: it waits until one starts. */
  NO_WORKER: 'NO_WORKER',
} as const;

/** One of the stable warning codes. */
export type WarningCode = (typeof WarningCode)[keyof typeof WarningCode];

/** A coded warning (see {@link WarningCode}). */
export interface FaithsweepWarning {
  readonly code: WarningCode;
  readonly message: string;
  readonly hint?: string;
}

/** Formats a warning as one or two lines for stderr. */
export function formatWarning(w: FaithsweepWarning): string {
  return `warning[${w.code}]: ${w.message}${w.hint ? `\n  hint: ${w.hint}` : ''}`;
}

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: a coded error with a hint for the user. */
export class FaithsweepError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** What the user should do about it (one line), if anything. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaithsweepError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `err` is a {@link FaithsweepError}. */
export function isFaithsweepError(err: unknown): err is FaithsweepError {
  return err instanceof FaithsweepError;
}

/** Formats any error as one or two lines for the terminal, without a stack trace. */
export function formatError(err: unknown): string {
  const r = errorRecord(err);
  return `error[${r.code}]: ${r.message}${r.hint ? `\n  hint: ${r.hint}` : ''}`;
}

/**
 * The error as data, for `--json` output: `{code, message, hint}`. A non-faithsweep error is
 * INTERNAL with the line of its message that names the cause.
 */
export function errorRecord(err: unknown): { code: ErrorCode; message: string; hint: string | null } {
  if (isFaithsweepError(err)) return { code: err.code, message: err.message, hint: err.hint ?? null };
  const message = err instanceof Error ? err.message : String(err);
  // Some libraries (Prisma) start their messages with a blank line and put the cause last.
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.length > 1 && /invocation/.test(lines[0] ?? '') ? lines[lines.length - 1] : lines[0];
  return { code: ErrorCode.INTERNAL, message: line ?? '(no message)', hint: 'rerun with FAITHSWEEP_DEBUG=1 for the stack trace' };
}
