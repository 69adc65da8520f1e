/** Every workflow the worker registers (this file is the worker's `workflowsPath`). */
export { smokeWorkflow } from './smoke.ts';
export { sweepWorkflow } from './sweep.ts';
export { shardWorkflow } from './shard.ts';
