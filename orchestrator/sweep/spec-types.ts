/**
 * The validated sweep spec (docs/spec.md describes the YAML). Produced once by
 * `parseSpec`; everything downstream receives these frozen, typed values.
 */

/** A chain-of-thought / answer span selector, resolved against each clean trajectory. */
export type SpanName = 'cot' | 'answer' | 'all';

/** Which generated positions to corrupt. */
export type PositionSelector =
  | { readonly kind: 'index'; readonly value: number }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'span'; readonly span: SpanName }
  | { readonly kind: 'every'; readonly k: number; readonly of: SpanName };

/** Which denoising steps to intervene at. */
export type StepSelector =
  | { readonly kind: 'index'; readonly value: number }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'fraction'; readonly value: number }
  | { readonly kind: 'every'; readonly k: number }
  | { readonly kind: 'all' };

/** What to do at (step, position). */
export type KindSpec =
  /** `end`: the card's end token (truncation: a legitimate corruption for instruct models). */
  | { readonly kind: 'replace'; readonly variant: 'random' | 'second' | 'end' }
  | { readonly kind: 'replace'; readonly variant: 'given'; readonly token: number }
  | { readonly kind: 'remask' }
  | { readonly kind: 'probe' };

/** Sampler overrides of one model (absent fields: the model card's defaults). */
export interface SamplerOverrides {
  readonly genLength?: number;
  readonly steps?: number;
  readonly blockLength?: number;
  readonly remasking?: 'low_confidence' | 'random' | 'entropy' | 'topk_margin';
  readonly temperature?: number;
}

/** A model of the sweep: a name under the models folder, or a directory path. */
export interface ModelRef {
  readonly ref: string;
  readonly sampler: SamplerOverrides;
  /** `file:line:col: models[i]`, for errors found when the model is resolved. */
  readonly where?: string;
}

/**
 * Which fields of a JSONL record hold the prompt and the gold answer. Absent fields take
 * the defaults: `prompt`, and `answer` (or `gold` when a record has no `answer`).
 */
export interface JsonlFields {
  readonly prompt?: string;
  readonly answer?: string;
}

/**
 * Few-shot examples: the first `count` records of a second JSONL file, each given to a chat
 * model as a user turn (its prompt field) and an assistant turn (its answer field, whole).
 */
export interface FewshotSpec extends JsonlFields {
  /** Path as written in the spec (relative to the spec file). */
  readonly path: string;
  readonly count: number;
  /** `file:line:col: dataset.fewshot`, for errors found when the file is read. */
  readonly where?: string;
}

/** Where prompts come from. */
export type DatasetSpec =
  | { readonly kind: 'arith'; readonly seed: number; readonly count: number }
  | {
      readonly kind: 'jsonl';
      /** Path as written in the spec (relative to the spec file). */
      readonly path: string;
      /** Field mapping (absent: the defaults of {@link JsonlFields}). */
      readonly fields?: JsonlFields;
      /**
       * A JavaScript regular expression with a named group `answer`, searched in the answer
       * field; the gold answer is that group of the last match, trimmed. A record it does not
       * match is a bad line.
       */
      readonly answerRegex?: string;
      /** Only the first `count` records. */
      readonly count?: number;
      readonly fewshot?: FewshotSpec;
      /** `file:line:col: dataset.jsonl`, for errors found when the file is read. */
      readonly where?: string;
    };

/** How prompts are presented to chat-template models (`prompt.template: chat` in the card). */
export interface PromptingSpec {
  /** A system message, before the few-shot turns and the prompt. */
  readonly system?: string;
  /** `file:line:col: prompting`, for errors found when a prompt is rendered. */
  readonly where?: string;
}

/** A validated sweep spec. */
export interface SweepSpec {
  readonly name: string;
  readonly models: readonly ModelRef[];
  readonly dataset: DatasetSpec;
  /** Absent when the spec has no `prompting` key. */
  readonly prompting?: PromptingSpec;
  readonly seeds: readonly number[];
  readonly grid: {
    readonly positions: readonly PositionSelector[];
    readonly steps: readonly StepSelector[];
    readonly kinds: readonly KindSpec[];
  };
  readonly options: {
    /** Running work units at once. @default 32 */
    readonly window: number;
    /** Prompts (the first N) whose clean runs record the film strip. @default 0 */
    readonly filmStripPrompts: number;
    /**
     * Seeds of a deterministic sweep (every model at temperature 0 without random remasking, no
     * random replacement) repeat the same runs: `collapse` runs the first seed only, `run` runs
     * every listed seed anyway (plan.ts seedCopies). @default 'collapse'
     */
    readonly copiedSeeds?: 'collapse' | 'run';
  };
}
