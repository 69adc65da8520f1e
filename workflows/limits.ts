/**
 * Sweep limits shared by the workflows and the spec schema (orchestrator/sweep/spec-schema.ts):
 * plain constants, so that both sides read one definition (workflow code may not import
 * values from orchestrator/, and this file imports nothing).
 */

/** Default running work units per shard (`options.window` when the spec does not say). */
export const DEFAULT_WINDOW = 32;

/**
 * Largest window accepted: half of Temporal's default limit of 2,000 pending activities per
 * workflow execution, so a shard never hits it. A spec asking for more is refused at `plan`;
 * a `window` signal asking for more is clamped.
 */
export const MAX_WINDOW = 1000;
