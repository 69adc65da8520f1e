/**
 * A model directory loaded for inference: the card, the tokenizer and one onnxruntime
 * session (reused for every call). At load the ONNX file's sha256 is checked against the
 * card and the graph's inputs and outputs against the contract (`input_ids int64[B, L]` →
 * `logits float32[B, L, V]`, optionally fused `topk_ids`/`topk_logprobs` [B, L, K]).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { deviceError, executionProvider, precheckDevice } from '../engine/device.ts';
import { AgentError, AgentErrorCode, isAgentError } from '../../common/agent-errors.ts';
import type { ModelCard } from '../../common/model/card.ts';
import { parseCard } from '../../common/model/card.ts';
import type { Tokenizer } from '../../common/model/tokenizer.ts';
import { loadAgentTokenizer } from '../../common/model/tokenizer.ts';

/** Execution providers the agent knows. */
export type Device = 'cpu' | 'cuda' | 'webgpu';

/**
 * Scores of a forward pass for every (row, position): full logits (`ids` null, width V)
 * or fused top-k (`ids` holds the token of each entry, values are log-probabilities).
 * Entry k of (row b, position i) is at ((b * L) + i) * width + k.
 */
export interface Scores {
  readonly values: Float32Array;
  readonly ids: Int32Array | null;
  readonly width: number;
  /** Values are log-probabilities (fused outputs), not raw logits. */
  readonly normalized: boolean;
}

/** A loaded model. */
export interface OnnxModel {
  readonly dir: string;
  readonly card: ModelCard;
  readonly tokenizer: Tokenizer;
  /** The graph has fused top-k outputs, which the agent reads instead of full logits. */
  readonly fusedTopK: boolean;
  /** Entries per position of what {@link OnnxModel.forward} returns: V for full logits, K for fused top-k. */
  readonly outputWidth: number;
  /** Runs the graph on `rows` token sequences of equal length `seqLen` (concatenated). */
  forward(tokens: Int32Array, rows: number, seqLen: number): Promise<Scores>;
}

/** Options for loading. */
export interface LoadOptions {
  readonly device: Device;
  /** GPU ordinal for `cuda` (onnxruntime's device_id); ignored by the other providers. @default 0 */
  readonly deviceId?: number;
  /** onnxruntime intra-op threads; 0 = its default. */
  readonly intraOpThreads: number;
  /** Use the CPU when `device` cannot be loaded (after {@link LoadOptions.onFallback}); else throw DEVICE_UNAVAILABLE. @default false */
  readonly allowCpuFallback?: boolean;
  /** Called when the requested provider is unavailable and the CPU is used instead (only with allowCpuFallback). */
  readonly onFallback: (requested: Device, reason: string) => void;
}

/**
 * Creates an onnxruntime session on `device` (GPU `deviceId`). Returns the provider used.
 * Throws DEVICE_UNAVAILABLE naming what is missing when the provider cannot be loaded, unless
 * `allowCpuFallback` is set, in which case `onFallback` is told and the CPU is used.
 */
export async function createSession(path: string, opts: LoadOptions): Promise<{ session: ort.InferenceSession; provider: Device }> {
  const base: ort.InferenceSession.SessionOptions = {
    ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  if (opts.device !== 'cpu') {
    const deviceId = opts.deviceId ?? 0;
    try {
      precheckDevice(opts.device);
      return { session: await ort.InferenceSession.create(path, { ...base, executionProviders: [executionProvider(opts.device, deviceId)] }), provider: opts.device };
    } catch (err) {
      const coded = isAgentError(err) ? err : deviceError(opts.device, deviceId, err);
      if (!opts.allowCpuFallback) throw coded;
      opts.onFallback(opts.device, coded.message);
    }
  }
  return { session: await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
}

/** sha256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Loads one model directory; throws MODEL_INVALID with the reason. */
export async function loadModel(dir: string, opts: LoadOptions): Promise<{ model: OnnxModel; provider: Device }> {
  const invalid = (why: string) => new AgentError(AgentErrorCode.MODEL_INVALID, `${dir}: ${why}`);
  const cardPath = join(dir, 'model.json');
  if (!existsSync(cardPath)) throw invalid('no model.json');
  const card = parseCard(JSON.parse(readFileSync(cardPath, 'utf8')), cardPath);
  const onnxPath = join(dir, card.onnx);
  if (!existsSync(onnxPath)) throw invalid(`no ${card.onnx}`);
  const digest = sha256File(onnxPath);
  if (digest !== card.sha256) throw invalid(`sha256 of ${card.onnx} is ${digest.slice(0, 12)}…, the card says ${card.sha256.slice(0, 12)}…: re-export or fix the card`);
  const tokenizer = await loadAgentTokenizer(dir, card.tokenizer, card.tokenizer_config);
  if (tokenizer.vocabSize > card.vocab_size) throw invalid(`tokenizer has ${tokenizer.vocabSize} tokens, more than vocab_size ${card.vocab_size}`);

  const { session, provider } = await createSession(onnxPath, opts);
  if (!session.inputNames.includes('input_ids')) throw invalid(`graph inputs are [${session.inputNames.join(', ')}], expected input_ids`);
  const fusedTopK = session.outputNames.includes('topk_ids') && session.outputNames.includes('topk_logprobs');
  if (!fusedTopK && !session.outputNames.includes('logits')) throw invalid(`graph outputs are [${session.outputNames.join(', ')}], expected logits`);
  const fetches = fusedTopK ? ['topk_ids', 'topk_logprobs'] : ['logits'];

  const model: OnnxModel = {
    dir,
    card,
    tokenizer,
    fusedTopK,
    outputWidth: 0,
    async forward(tokens, rows, seqLen) {
      const ids = new BigInt64Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) ids[i] = BigInt(tokens[i]!);
      const out = await session.run({ input_ids: new ort.Tensor('int64', ids, [rows, seqLen]) }, fetches);
      if (fusedTopK) {
        const topIds = out['topk_ids']!;
        const lp = out['topk_logprobs']!;
        const width = lp.dims[2]!;
        return { values: lp.data as Float32Array, ids: Int32Array.from(topIds.data as BigInt64Array, Number), width, normalized: true };
      }
      const logits = out['logits']!;
      return { values: logits.data as Float32Array, ids: null, width: logits.dims[2]!, normalized: false };
    },
  };

  // One tiny pass checks the output shape against the card before any real work.
  const probeLen = 2;
  const probe = await model.forward(new Int32Array(probeLen).fill(card.mask_token_id), 1, probeLen);
  if (!fusedTopK && probe.width !== card.vocab_size) throw invalid(`logits have ${probe.width} entries per position, the card says vocab_size ${card.vocab_size}`);
  if (probe.values.length !== probeLen * probe.width) throw invalid('output is not [batch, seq, V]');
  return { model: { ...model, outputWidth: probe.width }, provider };
}
