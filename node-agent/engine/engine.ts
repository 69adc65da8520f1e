/**
 * The contract between the gRPC server and the inference engine. The engine runs one
 * work unit ("group") at a time per call, consuming and producing the generated protobuf
 * types directly so there is one definition of every field (proto/faithsweep/v1/agent.proto).
 */
import type { GroupDone, LoadedModel, RunGroupEvent, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';

/** Per-call options of {@link GroupEngine.runGroup}. */
export interface RunGroupOptions {
  /** Aborts the group: the engine stops at the next step boundary and rejects with CANCELLED. */
  readonly signal: AbortSignal;
  /** Receives the clean trajectory first, then each intervention result as it finishes. */
  readonly emit: (event: RunGroupEvent) => void;
}

/** Runs work units on loaded models. */
export interface GroupEngine {
  /** The models this engine can run. */
  models(): readonly LoadedModel[];
  /**
   * Validates `req` (throws {@link AgentError} with MODEL_NOT_FOUND, BAD_SAMPLER,
   * BAD_INTERVENTION or BAD_REQUEST before any compute), then runs the clean trajectory
   * and every intervention, emitting events; resolves with the group summary (which the
   * caller sends as the final `done` event).
   */
  runGroup(req: RunGroupRequest, opts: RunGroupOptions): Promise<GroupDone>;
}
