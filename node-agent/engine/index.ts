/**
 * The ONNX inference engine of the node agent: loads every model directory under a models
 * root and runs work units on them with the forked, batched sampler.
 */
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedModel } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Logger } from '../../orchestrator/log.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { Device, OnnxModel } from '../model/onnx-model.ts';
import { loadModel } from '../model/onnx-model.ts';
import type { GroupEngine } from './engine.ts';
import { runForked } from './forked.ts';
import { prepareGroup } from './prepare.ts';

export type { GroupEngine, RunGroupOptions } from './engine.ts';
export { prepareGroup } from './prepare.ts';
export { runClean } from './clean-run.ts';
export { runAlone } from './alone.ts';
export { runForked } from './forked.ts';

/**
 * Branches per forward pass. On CPU, throughput per row flattens out around a few dozen
 * rows of ~50 tokens; on a GPU a larger batch pays (set --max-batch).
 */
export const DEFAULT_MAX_BATCH = 64;

/** Options of the engine. */
export interface OnnxEngineOptions {
  /** A model directory, or a folder of model directories (each with a model.json). */
  readonly modelsDir: string;
  /** Requested execution provider; unavailable ones fall back to the CPU with a warning. @default 'cpu' */
  readonly device?: Device;
  /** onnxruntime intra-op threads per session; 0 = onnxruntime's default. @default 0 */
  readonly intraOpThreads?: number;
  /** @default {@link DEFAULT_MAX_BATCH} */
  readonly maxBatch?: number;
  readonly log: Logger;
}

/** Device facts for Describe. */
export interface DeviceDescription {
  readonly executionProvider: Device;
  readonly requestedProvider: Device;
  readonly description: string;
  readonly intraOpThreads: number;
}

/** The engine plus what Describe reports. */
export interface OnnxEngine extends GroupEngine {
  describeDevice(): DeviceDescription;
  readonly maxBatch: number;
  /** The loaded models by name (tests and benchmarks drive them directly). */
  readonly loaded: ReadonlyMap<string, OnnxModel>;
}

/** Model directories under `root` (or `root` itself when it holds a model.json). */
export function modelDirs(root: string): string[] {
  if (!existsSync(root)) throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `models folder ${root} does not exist`);
  if (existsSync(join(root, 'model.json'))) return [root];
  return readdirSync(root)
    .map((n) => join(root, n))
    .filter((d) => existsSync(join(d, 'model.json')))
    .sort();
}

/** Loads the models and returns the engine. Throws MODEL_NOT_FOUND / MODEL_INVALID. */
export async function createOnnxEngine(opts: OnnxEngineOptions): Promise<OnnxEngine> {
  const requested = opts.device ?? 'cpu';
  const threads = opts.intraOpThreads ?? 0;
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  const dirs = modelDirs(opts.modelsDir);
  if (dirs.length === 0) throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `no model directories (with model.json) under ${opts.modelsDir}`);
  const loaded = new Map<string, OnnxModel>();
  let provider: Device = requested;
  for (const dir of dirs) {
    const r = await loadModel(dir, {
      device: requested,
      intraOpThreads: threads,
      onFallback: (req, reason) => opts.log.warn(`execution provider '${req}' is not available; using the CPU`, { reason }),
    });
    if (loaded.has(r.model.card.name)) throw new AgentError(AgentErrorCode.MODEL_INVALID, `two model directories are named '${r.model.card.name}'`);
    loaded.set(r.model.card.name, r.model);
    provider = r.provider;
    opts.log.info('model loaded', { name: r.model.card.name, sha256: r.model.card.sha256.slice(0, 12), provider: r.provider, fusedTopK: r.model.fusedTopK });
  }
  const described: LoadedModel[] = [...loaded.values()].map((m) => ({ name: m.card.name, sha256: m.card.sha256, cardJson: JSON.stringify(m.card), fusedTopk: m.fusedTopK }));
  return {
    maxBatch,
    loaded,
    models: () => described,
    describeDevice: () => ({ executionProvider: provider, requestedProvider: requested, description: `${hostname()} (${provider})`, intraOpThreads: threads }),
    async runGroup(req, runOpts) {
      const g = prepareGroup(loaded, req, maxBatch);
      return runForked(g, runOpts);
    },
  };
}
