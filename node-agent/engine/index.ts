/**
 * The ONNX inference engine of the node agent: loads every model directory under a models
 * root and runs work units on them with the forked, batched sampler.
 */
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedModel } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Logger } from '../../common/log.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import type { Device, OnnxModel } from '../model/onnx-model.ts';
import { loadModel } from '../model/onnx-model.ts';
import { DEFAULT_MEMORY_BUDGET_MIB, hostBytesPerPosition, rowsWithinBudget } from './budget.ts';
import { precheckDevice } from './device.ts';
import type { GroupEngine } from './engine.ts';
import { runForked } from './forked.ts';
import { prepareGroup } from './prepare.ts';
import { prepareArGroup, runAutoregressive } from './autoregressive.ts';

export type { GroupEngine, RunGroupOptions } from './engine.ts';
export { prepareGroup } from './prepare.ts';
export { runClean } from './clean-run.ts';
export { runAlone } from './alone.ts';
export { runForked } from './forked.ts';
export { arAnswer, arAnswerRule, prepareArGroup, runAutoregressive } from './autoregressive.ts';
export { deviceError, executionProvider, onnxruntimeBinDir, onnxruntimeVersion, precheckDevice } from './device.ts';

/**
 * Upper bound on branches per forward pass when --max-batch is not given. The batch actually
 * used is the smaller of this and what the memory budget allows ({@link rowsWithinBudget}). On
 * CPU, throughput per row flattens out around a few dozen rows of ~50 tokens; on a GPU a larger
 * batch pays (set --max-batch).
 */
export const DEFAULT_MAX_BATCH = 64;

export { DEFAULT_MEMORY_BUDGET_MIB, bytesPerPosition, hostBytesPerPosition, rowsWithinBudget } from './budget.ts';

/** Options of the engine. */
export interface OnnxEngineOptions {
  /** A model directory, or a folder of model directories (each with a model.json). */
  readonly modelsDir: string;
  /** Requested execution provider; one that cannot be loaded is a DEVICE_UNAVAILABLE error (see allowCpuFallback). @default 'cpu' */
  readonly device?: Device;
  /** GPU ordinal for `cuda` (--device-id). @default 0 */
  readonly deviceId?: number;
  /** Use the CPU, with a warning, when `device` cannot be loaded (--allow-cpu-fallback). @default false */
  readonly allowCpuFallback?: boolean;
  /**
   * Host bytes one forward pass's outputs may take (--memory-budget, in bytes here). The batch of a
   * group is cut to fit; a full-logit graph whose single row at the card's max_seq_len exceeds it
   * is refused at load with MEMORY_BUDGET. @default {@link DEFAULT_MEMORY_BUDGET_MIB} MiB
   */
  readonly memoryBudgetBytes?: number;
  /** onnxruntime intra-op threads per session; 0 = onnxruntime's default. @default 0 */
  readonly intraOpThreads?: number;
  /** @default {@link DEFAULT_MAX_BATCH} */
  readonly maxBatch?: number;
  /** External paraphrase commands a request may name as `cmd:NAME` (docs/paraphrase.md). @default none */
  readonly paraphraseCommands?: ReadonlyMap<string, readonly string[]>;
  readonly log: Logger;
}

/** Device facts for Describe. */
export interface DeviceDescription {
  readonly executionProvider: Device;
  readonly requestedProvider: Device;
  /** GPU ordinal (cuda); 0 otherwise. */
  readonly deviceId?: number;
  readonly description: string;
  readonly intraOpThreads: number;
}

/** The engine plus what Describe reports. */
export interface OnnxEngine extends GroupEngine {
  describeDevice(): DeviceDescription;
  readonly maxBatch: number;
  /** The memory budget of one forward pass's outputs, in bytes. */
  readonly memoryBudgetBytes: number;
  /** Rows per forward pass for a group of `model` with sequences of `seqLen` tokens: min(maxBatch, budget). */
  batchFor(model: OnnxModel, seqLen: number): number;
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

/**
 * Loads the models and returns the engine. Throws MODEL_NOT_FOUND / MODEL_INVALID, DEVICE_UNAVAILABLE
 * (the device cannot be loaded and no CPU fallback was allowed; checked before any model is read)
 * or MEMORY_BUDGET (a full-logit graph one row of which exceeds the budget).
 */
export async function createOnnxEngine(opts: OnnxEngineOptions): Promise<OnnxEngine> {
  const requested = opts.device ?? 'cpu';
  const deviceId = opts.deviceId ?? 0;
  const threads = opts.intraOpThreads ?? 0;
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_MIB * 2 ** 20;
  if (!opts.allowCpuFallback) precheckDevice(requested);
  const dirs = modelDirs(opts.modelsDir);
  if (dirs.length === 0) throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `no model directories (with model.json) under ${opts.modelsDir}`);
  const loaded = new Map<string, OnnxModel>();
  let provider: Device = requested;
  for (const dir of dirs) {
    const r = await loadModel(dir, {
      device: requested,
      deviceId,
      intraOpThreads: threads,
      allowCpuFallback: opts.allowCpuFallback ?? false,
      onFallback: (req, reason) => opts.log.warn(`execution provider '${req}' is not available; using the CPU (--allow-cpu-fallback)`, { reason }),
    });
    const m = r.model;
    const perPosition = hostBytesPerPosition(m.fusedTopK, m.outputWidth, m.card.vocab_size, r.provider === 'cpu');
    if (rowsWithinBudget(budget, m.card.max_seq_len, perPosition) < 1) {
      const rowMiB = (m.card.max_seq_len * perPosition) / 2 ** 20;
      throw new AgentError(
        AgentErrorCode.MEMORY_BUDGET,
        `${dir}: one row of ${m.fusedTopK ? `fused top-${m.outputWidth} outputs` : `full logits (V = ${m.outputWidth})`} at max_seq_len ${m.card.max_seq_len} takes ${rowMiB.toFixed(0)} MiB on the ${r.provider === 'cpu' ? 'host (CPU provider: outputs and the logits inside the graph)' : 'host'}, more than --memory-budget ${(budget / 2 ** 20).toFixed(0)} MiB: ` +
          (m.fusedTopK ? 'raise --memory-budget (or run on a GPU, where the logits inside the graph are device memory)' : 're-export with fused top-k outputs (models/export/hf_export.py --topk K, or add_topk_outputs.py), or raise --memory-budget'),
      );
    }
    if (loaded.has(r.model.card.name)) throw new AgentError(AgentErrorCode.MODEL_INVALID, `two model directories are named '${r.model.card.name}'`);
    loaded.set(r.model.card.name, r.model);
    provider = r.provider;
    opts.log.info('model loaded', { name: r.model.card.name, sha256: r.model.card.sha256.slice(0, 12), provider: r.provider, fusedTopK: r.model.fusedTopK });
  }
  function batchFor(model: OnnxModel, seqLen: number): number {
    const perPosition = hostBytesPerPosition(model.fusedTopK, model.outputWidth, model.card.vocab_size, provider === 'cpu');
    return Math.max(1, Math.min(maxBatch, rowsWithinBudget(budget, seqLen, perPosition)));
  }
  const described: LoadedModel[] = [...loaded.values()].map((m) => ({ name: m.card.name, sha256: m.card.sha256, cardJson: JSON.stringify(m.card), fusedTopk: m.fusedTopK }));
  return {
    maxBatch,
    loaded,
    models: () => described,
    memoryBudgetBytes: budget,
    batchFor,
    describeDevice: () => ({ executionProvider: provider, requestedProvider: requested, deviceId, description: `${hostname()} (${provider}${provider === 'cuda' ? `:${deviceId}` : ''})`, intraOpThreads: threads }),
    async runGroup(req, runOpts) {
      const m = loaded.get(req.model);
      if (m?.card.kind === 'autoregressive') {
        if (req.modelSha256 && req.modelSha256 !== m.card.sha256) {
          throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `model '${req.model}' here has sha256 ${m.card.sha256.slice(0, 12)}…, the request asks for ${req.modelSha256.slice(0, 12)}…`);
        }
        const g = prepareArGroup(m, req, maxBatch);
        return runAutoregressive({ ...g, maxBatch: Math.min(g.maxBatch, batchFor(m, g.promptIds.length + g.genLength)) }, runOpts);
      }
      const g = prepareGroup(loaded, req, maxBatch, opts.paraphraseCommands);
      return runForked({ ...g, maxBatch: Math.min(g.maxBatch, batchFor(g.model, g.ctx.seqLen)) }, runOpts);
    },
  };
}
