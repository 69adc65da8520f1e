/**
 * Every workflow the production worker registers (this file is the worker's `workflowsPath`).
 * The smoke workflow (workflows/smoke.ts) is not here: it writes a `smoke-…` Sweep row that the
 * views would show, so only the smoke check (test/smoke.test.ts) bundles it, from its own path.
 */
export { sweepWorkflow } from './sweep.ts';
export { shardWorkflow } from './shard.ts';
