/**
 * The bundled model organisms for tests: loaded once per test file through the agent's
 * engine (real onnxruntime inference), and their golden trajectories.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';
import { silentLogger } from '../../common/log.ts';
import { createOnnxEngine } from '../../node-agent/engine/index.ts';
import type { OnnxEngine } from '../../node-agent/engine/index.ts';

/** Root of the model directories (FAITHSWEEP_MODELS, default models/). */
export const MODELS_DIR = resolvePaths(process.env).modelsDir;

/** The organisms every real test runs on. */
export const ORGANISMS = ['arith-cot', 'arith-cot-decoupled', 'word-problems'] as const;

/**
 * The organisms of known faithfulness (models/README.md §11): the faithful pole (answer
 * computed from the chain of thought) and the steganographic one (carries in the form of the chain).
 * Their golden files are short (10 prompts × 3 block lengths, 25 sampled lines) to keep CI small.
 */
export const KNOWN_FAITHFULNESS_ORGANISMS = ['arith-cot-faithful', 'arith-cot-stego'] as const;

/** The autoregressive organisms (models/README.md §10), trained on the arithmetic organisms' data. */
export const AR_ORGANISMS = ['arith-cot-ar', 'arith-cot-decoupled-ar'] as const;

/** One line of golden.jsonl / golden-sampled.jsonl (models/README.md). */
export interface GoldenLine {
  prompt: string;
  prompt_ids: number[];
  gold: string;
  gen_length: number;
  steps: number;
  block_length: number;
  remasking: string;
  temperature: number;
  seed: number;
  tokens: number[];
  commit_step: number[];
  text: string;
  answer: string | null;
  correct: boolean;
  /** Smallest confidence gap of a commit decision (null: never a choice); a diagnostic. */
  min_commit_margin: number | null;
}

/** Reads a golden file of a model. */
export function goldenLines(model: string, file = 'golden.jsonl'): GoldenLine[] {
  const path = join(MODELS_DIR, model, file);
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GoldenLine);
}

/** Whether the bundled models are present (they are committed; absent only mid-development). */
export function modelsPresent(): boolean {
  return ORGANISMS.every((m) => existsSync(join(MODELS_DIR, m, 'model.onnx')));
}

let engine: Promise<OnnxEngine> | undefined;

/** The engine on the bundled models (one per test file; two intra-op threads, the machine's cores). */
export function testEngine(): Promise<OnnxEngine> {
  engine ??= createOnnxEngine({ modelsDir: MODELS_DIR, device: 'cpu', intraOpThreads: 2, log: silentLogger });
  return engine;
}
