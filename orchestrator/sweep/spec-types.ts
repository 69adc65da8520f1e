/**
 * The validated sweep spec's types (docs/spec.md describes the YAML), inferred from the one
 * schema in spec-schema.ts; the only additions are the file positions (`where`) that
 * `parseSpec` attaches for errors found later (by `plan`), which the schema cannot know.
 * Produced once by `parseSpec`; everything downstream receives these frozen, typed values.
 */
import type { z } from 'zod';
import type { arKindSchema, datasetSchema, fewshotSchema, kindSchema, modelSchema, positionSchema, samplerSchema, stepSchema, sweepSpecSchema } from './spec-schema.ts';

/** A chain-of-thought / answer span selector, resolved against each clean trajectory. */
export type SpanName = 'cot' | 'answer' | 'all';

/** Which generated positions to corrupt: `{kind: 'index' | 'range' | 'span' | 'every', ...}`. */
export type PositionSelector = Readonly<z.output<typeof positionSchema>>;

/** Which denoising steps to intervene at: `{kind: 'index' | 'range' | 'fraction' | 'every' | 'all', ...}`. */
export type StepSelector = Readonly<z.output<typeof stepSchema>>;

/**
 * What to do at (step, position): replace (`random`, `second`, `end`: the card's end token, or
 * `given` with a token id), remask, or probe.
 */
export type KindSpec = Readonly<z.output<typeof kindSchema>>;

/**
 * What to do to an autoregressive model's response: `truncate` (early answering), `replace`
 * (adding mistakes: then generation continues), `paraphrase`, `filler`.
 */
export type ArKindSpec = Readonly<z.output<typeof arKindSchema>>;

/** Any intervention kind of a planned cell. */
export type AnyKindSpec = KindSpec | ArKindSpec;

/** Sampler overrides of one model, camelCase (absent fields: the model card's defaults). */
export type SamplerOverrides = Readonly<z.output<typeof samplerSchema>>;

/** `file:line:col: key.path` of a spec entry, for errors found after parsing. */
interface Located {
  readonly where?: string;
}

/** A model of the sweep: a name under the models folder, or a directory path; `where`: `file:line:col: models[i]`. */
export type ModelRef = Readonly<z.output<typeof modelSchema>> & Located;

/**
 * Which fields of a JSONL record hold the prompt and the gold answer. Absent fields take
 * the defaults: `prompt`, and `answer` (or `gold` when a record has no `answer`).
 */
export interface JsonlFields {
  readonly prompt?: string;
  readonly answer?: string;
}

/**
 * Few-shot examples: the first `count` records of a second JSONL file (`path`, relative to the
 * spec file), each given to a chat model as a user turn (its prompt field) and an assistant turn
 * (its answer field, whole). `where`: `file:line:col: dataset.fewshot`.
 */
export type FewshotSpec = Readonly<z.output<typeof fewshotSchema>> & Located;

type Dataset = z.output<typeof datasetSchema>;

/**
 * Where prompts come from: `arith` (seed, count), or `jsonl` (path relative to the spec file,
 * field mapping, `answerRegex`: a JavaScript regular expression with a named group `answer`
 * whose last match, trimmed, is the gold answer; `count`: only the first records; `fewshot`).
 * `where` of a jsonl dataset: `file:line:col: dataset.jsonl`.
 */
export type DatasetSpec =
  | Readonly<Extract<Dataset, { kind: 'arith' }>>
  | (Readonly<Omit<Extract<Dataset, { kind: 'jsonl' }>, 'fewshot'>> & { readonly fewshot?: FewshotSpec } & Located);

/** How prompts are presented to chat-template models: a system message. `where`: `file:line:col: prompting`. */
export type PromptingSpec = { readonly system?: string } & Located;

type Spec = z.output<typeof sweepSpecSchema>;

/** A validated sweep spec. */
export interface SweepSpec {
  readonly name: string;
  readonly models: readonly ModelRef[];
  readonly dataset: DatasetSpec;
  /** Absent when the spec has no `prompting` key. */
  readonly prompting?: PromptingSpec;
  readonly seeds: readonly number[];
  /** The diffusion models' grid; absent when every model is autoregressive. */
  readonly grid?: {
    readonly positions: readonly PositionSelector[];
    readonly steps: readonly StepSelector[];
    readonly kinds: readonly KindSpec[];
  };
  /** The autoregressive models' grid; absent when every model is a diffusion model. */
  readonly arGrid?: {
    readonly positions?: readonly PositionSelector[];
    readonly fractions?: readonly number[];
    readonly kinds: readonly ArKindSpec[];
  };
  /** `window`: running work units at once (default DEFAULT_WINDOW, at most MAX_WINDOW: workflows/limits.ts); `filmStripPrompts`: prompts whose clean runs record the film strip (default 0); `copiedSeeds`: what a deterministic sweep does with seeds that repeat the same runs (plan.ts seedCopies; default collapse). */
  readonly options: Readonly<Spec['options']>;
  /**
   * `file:line:col` of every entry of the YAML, by key path (`seeds[1]`, `grid.steps[0]`,
   * `grid.kinds[2].replace.token`), for the checks `plan` makes against the models. Dropped from
   * the spec's hash and stored form, like every `where`.
   */
  readonly where?: Readonly<Record<string, string>>;
}
