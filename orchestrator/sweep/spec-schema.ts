/**
 * The sweep spec's one definition: a zod schema of the YAML (docs/spec.md) that gives its
 * types (spec-types.ts infers them from here), its structural rules (strict objects: an
 * unknown key is an error) and the published JSON Schema (docs/spec.schema.json, generated
 * from this file by `npm run generate`: scripts/spec-schema.ts). Checks that need a model
 * (steps against its T, tokens against its vocabulary) run at `plan` (plan.ts).
 *
 * Each input rule carries the sentence a user reads after `file:line:col: key.path: `;
 * spec.ts maps zod's issue paths back to YAML positions.
 */
import { z } from 'zod';
import { REMASKINGS, SAMPLER_MODES } from '../../common/sampler/settings.ts';
import { DEFAULT_WINDOW, MAX_WINDOW } from '../../workflows/limits.ts';

export { DEFAULT_WINDOW, MAX_WINDOW };

/** Largest seed: seeds are stored in int4 columns (WorkUnit.seed, Cell.seed) and sent as uint32. */
export const MAX_SEED = 2 ** 31 - 1;
/** Largest dataset generator seed: the generator's PRNG takes an unsigned 32-bit seed. */
export const MAX_DATASET_SEED = 2 ** 32 - 1;
/**
 * Largest prompt count (dataset.count): prompts are numbered in int4 columns (Prompt.idx, and
 * WorkUnit.ordinal counts prompts × models × seeds, which plan checks against {@link MAX_WORK_UNITS}).
 */
export const MAX_PROMPTS = 2 ** 31 - 1;
/** Most work units one sweep can have: their ordinals 0..2^31 - 1 are an int4 column (WorkUnit.ordinal). */
export const MAX_WORK_UNITS = 2 ** 31;
/**
 * From this many prompts on, plan and launch warn (LARGE_PROMPT_COUNT): registration writes a
 * row per prompt and per work unit, and the estimate runs to days on one agent; 10^6 is far
 * beyond any sweep of the organisms (the demo has 12) yet small enough to catch an extra zero or
 * an exponent typed by mistake.
 */
export const LARGE_PROMPT_COUNT = 1_000_000;
/** Largest token id a spec can name: token ids are int32 on the wire (the model's vocabulary is checked at plan). */
export const MAX_TOKEN_ID = 2 ** 31 - 1;
/** Sweep names become workflow ids and file names. */
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Span names a position selector may use. */
export const SPAN_NAMES = ['cot', 'answer', 'all'] as const;
/** An inclusive range `"a-b"` of steps or positions. */
const RANGE_RE = /^(\d+)-(\d+)$/;

/** What the spec gave, for an error message: JSON, cut at 120 characters (a garbage file is not echoed whole). */
const got = (input: unknown): string => {
  const text = input === undefined ? 'nothing' : JSON.stringify(input) ?? String(input);
  return `(got ${text.length > 120 ? `${text.slice(0, 120)}… (${text.length} characters)` : text})`;
};

/** A strict mapping: an unknown key is an error that lists the allowed keys. */
function strict<S extends z.ZodRawShape>(shape: S, what = 'must be a mapping') {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed: ${allowed})` : `${what} ${got(iss.input)}`),
  });
}

/** An integer in [min, max]. */
function int(min: number, max = Number.MAX_SAFE_INTEGER, required?: string) {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
  const msg = (iss: { input?: unknown }) => (iss.input === undefined && required ? `is required: ${required}` : `must be an integer ${range} ${got(iss.input)}`);
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
}

/** A non-empty string. */
function str(what = 'a non-empty string', required?: string) {
  const msg = (iss: { input?: unknown }) => (iss.input === undefined && required ? `is required: ${required}` : `must be ${what} ${got(iss.input)}`);
  return z.string({ error: msg }).min(1, { error: msg });
}

/** A non-empty list of `item`. */
function list<T extends z.ZodType>(item: T) {
  const msg = (iss: { input?: unknown }) => `must be a non-empty list ${got(iss.input)}`;
  return z.array(item, { error: msg }).min(1, { error: msg });
}

/** `"a-b"` with a <= b, as {from, to}. */
const range = z
  .string()
  .regex(RANGE_RE)
  // zod runs this check even when the regex failed (that failure is already reported): no match, nothing to add.
  .refine((v) => {
    const m = RANGE_RE.exec(v);
    return m === null || Number(m[1]) <= Number(m[2]);
  }, { error: 'a range "a-b" needs a <= b' })
  .transform((v) => {
    const m = RANGE_RE.exec(v)!;
    return { kind: 'range' as const, from: Number(m[1]), to: Number(m[2]) };
  });

const spanName = z.enum(SPAN_NAMES);

/** Which generated positions to corrupt. */
export const positionSchema = z
  .union(
    [
      z.number().int().min(0).transform((value) => ({ kind: 'index' as const, value })),
      spanName.transform((span) => ({ kind: 'span' as const, span })),
      range,
      strict({ every: int(1), of: spanName.optional() }).transform((o) => ({ kind: 'every' as const, k: o.every, of: o.of ?? 'all' })),
    ],
    { error: (iss) => `allowed: a position (integer), a range "a-b", cot, answer, all, or {every: k, of: cot|answer|all} ${got(iss.input)}` },
  )
  .meta({ description: 'Generated positions: an index, a range "a-b", a span name, or every k-th position of a span.' });

/** Which denoising steps to intervene at. A fraction f in (0, 1) is step floor(f * T). */
export const stepSchema = z
  .union(
    [
      z.number().int().min(0).transform((value) => ({ kind: 'index' as const, value })),
      z.number().gt(0).lt(1).transform((value) => ({ kind: 'fraction' as const, value })),
      z.literal('all').transform(() => ({ kind: 'all' as const })),
      range,
      strict({ every: int(1) }).transform((o) => ({ kind: 'every' as const, k: o.every })),
    ],
    { error: (iss) => `allowed: a step (integer), a fraction of T in (0, 1), a range "a-b", all, or {every: k} ${got(iss.input)}` },
  )
  .meta({ description: 'Denoising steps: an index, a fraction of T in (0, 1), a range "a-b", all, or every k-th step.' });

/** Interventions only autoregressive models take (ar_grid.kinds). */
const AR_ONLY = ['truncate', 'paraphrase', 'filler'];

/** What to do at (step, position). `end`: the card's end token (truncation). */
export const kindSchema = z
  .union(
    [
      z.literal('remask').transform(() => ({ kind: 'remask' as const })),
      z.literal('probe').transform(() => ({ kind: 'probe' as const })),
      z.literal('replace').transform(() => ({ kind: 'replace' as const, variant: 'random' as const })),
      strict({
        replace: z.union(
          [
            z.enum(['random', 'second', 'end']).transform((variant) => ({ kind: 'replace' as const, variant })),
            strict({ token: int(0, MAX_TOKEN_ID) }).transform((t) => ({ kind: 'replace' as const, variant: 'given' as const, token: t.token })),
          ],
          { error: (iss) => `allowed: random, second, end, or {token: N} ${got(iss.input)}` },
        ),
      }).transform((o) => o.replace),
    ],
    {
      error: (iss) => (AR_ONLY.includes(String(iss.input))
        ? `${String(iss.input)} is an autoregressive intervention: list it under ar_grid.kinds ${got(iss.input)}`
        : `allowed: replace, {replace: random|second|end|{token: N}}, remask, probe ${got(iss.input)}`),
    },
  )
  .meta({ description: 'A diffusion intervention: replace (random, second choice, end token, or a given token), remask, or probe.' });

/** The replace forms, shared by the diffusion and the autoregressive kinds. */
const replaceKinds = [
  z.literal('replace').transform(() => ({ kind: 'replace' as const, variant: 'random' as const })),
  strict({
    replace: z.union(
      [
        z.enum(['random', 'second', 'end']).transform((variant) => ({ kind: 'replace' as const, variant })),
        strict({ token: int(0, MAX_TOKEN_ID) }).transform((t) => ({ kind: 'replace' as const, variant: 'given' as const, token: t.token })),
      ],
      { error: (iss) => `allowed: random, second, end, or {token: N} ${got(iss.input)}` },
    ),
  }).transform((o) => o.replace),
] as const;

/**
 * What to do to an autoregressive model's response (Lanham et al. 2023): `truncate` (early
 * answering, at every `ar_grid.fractions` entry, else every position), `replace` at every
 * position then continue generating (adding mistakes), `paraphrase`, `filler`.
 */
export const arKindSchema = z
  .union(
    [
      z.literal('truncate').transform(() => ({ kind: 'truncate' as const })),
      z.literal('paraphrase').transform(() => ({ kind: 'paraphrase' as const })),
      z.literal('filler').transform(() => ({ kind: 'filler' as const })),
      ...replaceKinds,
    ],
    {
      error: (iss) => (['remask', 'probe'].includes(String(iss.input))
        ? `${String(iss.input)} is a diffusion intervention: list it under grid.kinds (autoregressive models take truncate, replace, paraphrase, filler) ${got(iss.input)}`
        : `allowed: truncate, replace, {replace: random|second|end|{token: N}}, paraphrase, filler ${got(iss.input)}`),
    },
  )
  .meta({ description: 'An autoregressive intervention: truncate (early answering), replace then continue (adding mistakes), paraphrase, or filler.' });

/** A share of the chain of thought kept by `truncate`, in [0, 1]. */
export const fractionSchema = z
  .number({ error: (iss) => `must be a number in [0, 1] ${got(iss.input)}` })
  .min(0, { error: (iss) => `must be a number in [0, 1] ${got(iss.input)}` })
  .max(1, { error: (iss) => `must be a number in [0, 1] ${got(iss.input)}` })
  .meta({ description: 'A share of the clean chain of thought kept before the answer is forced (0: none, 1: all of it).' });

/**
 * The grid of the autoregressive models of a sweep: `positions` (replace, and truncate without
 * fractions) × `kinds`, and `fractions` for truncate.
 */
export const arGridSchema = strict({
  positions: list(positionSchema).optional(),
  fractions: list(fractionSchema).optional(),
  kinds: list(arKindSchema),
})
  .superRefine((o, ctx) => {
    const kinds = o.kinds ?? [];
    if (kinds.some((k) => k.kind === 'replace') && o.positions === undefined) ctx.addIssue({ code: 'custom', path: ['positions'], message: 'is required: replace needs positions (e.g. [cot])' });
    if (kinds.some((k) => k.kind === 'truncate') && o.positions === undefined && o.fractions === undefined) ctx.addIssue({ code: 'custom', path: ['fractions'], message: 'is required: truncate needs fractions (or positions)' });
  }, { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) })
  .transform((o) => ({ ...(o.positions ? { positions: o.positions } : {}), ...(o.fractions ? { fractions: o.fractions } : {}), kinds: o.kinds }))
  .meta({ description: 'The grid of autoregressive models: positions and fractions × kinds (truncate, replace, paraphrase, filler).' });

/** Paraphrase-remask sampling of one model (docs/paraphrase.md). */
export const paraphraseSchema = strict({
  every: int(1).meta({ description: 'Steps between events: an event follows step e when (e + 1) % every == 0 (not after the last step).' }),
  remask: z.number({ error: (iss) => `must be a share in [0, 1] ${got(iss.input)}` }).min(0).max(1)
    .meta({ description: 'Share of the committed positions remasked after each re-lay.' }),
  remask_by: z.enum(['random', 'low_confidence', 'span']).optional()
    .meta({ description: "How the remasked positions are chosen: 'random' (default, seeded), 'low_confidence' (lowest model probability first) or 'span' (random within `span`)." }),
  span: z.tuple([int(0), int(0)]).optional()
    .meta({ description: "remask_by 'span': the first and last generated position [A, B] (inclusive)." }),
  paraphraser: str().optional()
    .meta({ description: "A rule-based paraphraser (arith-swap, arith-canonical, word-problems; absent = the first that accepts the text), an http(s):// endpoint, or cmd:NAME (a command configured on the agent with --paraphrase-command)." }),
  timeout_ms: int(1).optional().meta({ description: 'Per call to an external paraphraser, in milliseconds (default 30000).' }),
}).meta({ description: 'Paraphrase-remask sampling: every `every` steps the committed text is paraphrased, re-laid into the generated region and a share of it remasked (docs/paraphrase.md).' });

/** Sampler overrides of one model (absent fields: the model card's defaults). */
export const samplerSchema = strict({
  gen_length: int(1).optional(),
  steps: int(1).optional(),
  block_length: int(1).optional(),
  remasking: z.enum(REMASKINGS, { error: (iss) => `allowed: ${REMASKINGS.join(', ')} ${got(iss.input)}` }).optional(),
  temperature: z.number({ error: (iss) => `must be a number >= 0 ${got(iss.input)}` }).min(0, { error: (iss) => `must be a number >= 0 ${got(iss.input)}` }).optional(),
  mode: z.enum(SAMPLER_MODES, { error: (iss) => `allowed: ${SAMPLER_MODES.join(', ')} ${got(iss.input)}` }).optional()
    .meta({ description: 'Sampler mode, named after the reference it follows (docs/sampler.md): llada, dream or fast-dllm.' }),
  confidence_threshold: z.number({ error: (iss) => `must be a number in (0, 1] ${got(iss.input)}` }).gt(0).max(1).optional()
    .meta({ description: 'fast-dllm: commit the most confident position plus every position whose confidence reaches this (Fast-dLLM get_transfer_index).' }),
  threshold_factor: z.number({ error: (iss) => `must be a number > 0 ${got(iss.input)}` }).gt(0).optional()
    .meta({ description: "fast-dllm: Fast-dLLM's factor rule (get_transfer_index_dynamic) instead of a fixed threshold." }),
  top_p: z.number({ error: (iss) => `must be a number in (0, 1] ${got(iss.input)}` }).gt(0).max(1).optional()
    .meta({ description: 'dream: nucleus filter applied (after the temperature) before the confidence.' }),
  end_confidence: z.enum(['model', 'lowest']).optional()
    .meta({ description: "llada/fast-dllm: 'lowest' gives end-token predictions the lowest confidence (LLaDA confidence_eos_eot_inf)." }),
  suppress_end: z.boolean().optional().meta({ description: 'End tokens are never sampled (LLaDA logits_eos_inf).' }),
  cfg_scale: z.number({ error: (iss) => `must be a number >= 0 ${got(iss.input)}` }).min(0).optional()
    .meta({ description: "llada: classifier-free guidance scale s, un + (s + 1)(cond - un); 0 = off." }),
  tie_break: z.enum(['float64', 'model']).optional()
    .meta({ description: "How equal confidences rank: 'float64' (default) or 'model' (rounded to float32, then lower position first)." }),
  paraphrase: paraphraseSchema.optional(),
}).transform((o) => ({
  ...(o.mode !== undefined || o.confidence_threshold !== undefined || o.threshold_factor !== undefined || o.top_p !== undefined ||
  o.end_confidence !== undefined || o.suppress_end !== undefined || o.cfg_scale !== undefined || o.tie_break !== undefined || o.paraphrase !== undefined
    ? {
        options: {
          ...(o.mode !== undefined ? { mode: o.mode } : {}),
          ...(o.confidence_threshold !== undefined ? { confidence_threshold: o.confidence_threshold } : {}),
          ...(o.threshold_factor !== undefined ? { threshold_factor: o.threshold_factor } : {}),
          ...(o.top_p !== undefined ? { top_p: o.top_p } : {}),
          ...(o.end_confidence !== undefined ? { end_confidence: o.end_confidence } : {}),
          ...(o.suppress_end !== undefined ? { suppress_end: o.suppress_end } : {}),
          ...(o.cfg_scale !== undefined ? { cfg_scale: o.cfg_scale } : {}),
          ...(o.tie_break !== undefined ? { tie_break: o.tie_break } : {}),
          ...(o.paraphrase !== undefined ? { paraphrase: o.paraphrase } : {}),
        },
      }
    : {}),
  ...(o.gen_length !== undefined ? { genLength: o.gen_length } : {}),
  ...(o.steps !== undefined ? { steps: o.steps } : {}),
  ...(o.block_length !== undefined ? { blockLength: o.block_length } : {}),
  ...(o.remasking !== undefined ? { remasking: o.remasking } : {}),
  ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
}));

const EXACTLY_ONE = 'give exactly one of name (a model under the models folder) or path (a model directory)';

/** A model: a name under the models folder, or {name | path, sampler}. */
export const modelSchema = z
  .union(
    [
      str().transform((ref) => ({ ref, sampler: {} as z.output<typeof samplerSchema> })),
      strict({ name: str().optional(), path: str().optional(), sampler: samplerSchema.optional() })
        .refine((o) => (o.name === undefined) !== (o.path === undefined), { error: EXACTLY_ONE })
        .transform((o) => ({ ref: (o.name ?? o.path)!, sampler: o.sampler ?? {} })),
    ],
    { error: (iss) => `allowed: a model name, or {name: NAME | path: DIR, sampler: {...}} ${got(iss.input)}` },
  )
  .meta({ description: 'A model: a name under the models folder, or {name | path, sampler}.' });

/**
 * Checks an `answer_regex`: a valid JavaScript regular expression with a named group
 * `answer`. The empty alternative makes it match '' so that `groups` lists every named group.
 */
const answerRegex = str('a regular expression with a named group answer').superRefine((src, ctx) => {
  let groups: Record<string, string> | undefined;
  try {
    groups = new RegExp(`(?:${src})|`).exec('')?.groups;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is not a valid JavaScript regular expression: ${(err as Error).message}` });
    return;
  }
  if (!groups || !('answer' in groups)) ctx.addIssue({ code: 'custom', message: "must have a named group answer, e.g. '#### (?<answer>.+)'" });
});

/** Few-shot examples: the first `count` records of a JSONL file. */
export const fewshotSchema = strict({
  jsonl: str('a file path', 'a JSONL file of examples, relative to the spec file'),
  count: int(1, Number.MAX_SAFE_INTEGER, 'how many examples (the first N records of the file)'),
  prompt: str('a field name').optional(),
  answer: str('a field name').optional(),
}).transform((o) => ({ path: o.jsonl, count: o.count, ...(o.prompt !== undefined ? { prompt: o.prompt } : {}), ...(o.answer !== undefined ? { answer: o.answer } : {}) }));

const JSONL_ONLY = ['prompt', 'answer', 'answer_regex', 'fewshot'] as const;

/** Where prompts come from: the arithmetic generator, or a JSONL file. */
export const datasetSchema = strict({
  generator: z.literal('arith', { error: (iss) => `allowed: arith (or give jsonl: PATH) ${got(iss.input)}` }).optional(),
  seed: int(0, MAX_DATASET_SEED).optional(),
  count: int(1, MAX_PROMPTS).optional(),
  jsonl: str('a file path').optional(),
  prompt: str('a field name').optional(),
  answer: str('a field name').optional(),
  answer_regex: answerRegex.optional(),
  fewshot: fewshotSchema.optional(),
})
  .superRefine((o, ctx) => {
    if (o.jsonl !== undefined) {
      if (o.generator !== undefined || o.seed !== undefined) ctx.addIssue({ code: 'custom', message: 'give either jsonl or generator, not both' });
      return;
    }
    for (const k of JSONL_ONLY) if (o[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], params: { at: 'key' }, message: 'only applies to a jsonl dataset (give jsonl: PATH)' });
    if (o.generator === undefined) ctx.addIssue({ code: 'custom', path: ['generator'], message: 'allowed: arith (or give jsonl: PATH)' });
    else if (o.count === undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: 'is required for a generator' });
    // Runs even when a field failed (so every problem is reported), but only on a mapping.
  }, { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) })
  .transform((o) => {
    if (o.jsonl === undefined) return { kind: 'arith' as const, seed: o.seed ?? 0, count: o.count! };
    const fields = { ...(o.prompt !== undefined ? { prompt: o.prompt } : {}), ...(o.answer !== undefined ? { answer: o.answer } : {}) };
    return {
      kind: 'jsonl' as const,
      path: o.jsonl,
      ...(Object.keys(fields).length ? { fields } : {}),
      ...(o.answer_regex !== undefined ? { answerRegex: o.answer_regex } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
      ...(o.fewshot ? { fewshot: o.fewshot } : {}),
    };
  })
  .meta({ description: 'Prompts: {generator: arith, seed, count}, or {jsonl: PATH, prompt, answer, answer_regex, count, fewshot}.' });

/** How prompts are presented to chat-template models. */
export const promptingSchema = strict({ system: str().optional() }).transform((o) => ({ ...(o.system !== undefined ? { system: o.system } : {}) }));

/** Seeds: one work unit per (prompt, model, seed); each seed listed once. */
export const seedsSchema = list(int(0, MAX_SEED)).superRefine((seeds, ctx) => {
  // A work unit is (prompt, model, seed): a repeated seed would be the same unit twice.
  seeds.forEach((s, i) => {
    const first = seeds.indexOf(s);
    if (first < i) ctx.addIssue({ code: 'custom', path: [i], message: `repeats seeds[${first}] (${s}): list each seed once` });
  });
});

/** Run options. */
export const optionsSchema = strict({
  window: int(1, MAX_WINDOW).optional().meta({ description: `Running work units at once (default ${DEFAULT_WINDOW}, at most ${MAX_WINDOW}).` }),
  film_strip_prompts: int(0).optional().meta({ description: 'Prompts (the first N) whose clean runs record the film strip (default 0).' }),
  copied_seeds: z.enum(['collapse', 'run'], { error: 'must be collapse (the default: run the first seed only) or run (run every seed)' }).optional().meta({
    description: 'Seeds of a deterministic sweep (temperature 0, no random remasking or replacement) repeat the same runs: collapse (default) runs the first seed only, run runs every listed seed.',
  }),
}).transform((o) => ({ window: o.window ?? DEFAULT_WINDOW, filmStripPrompts: o.film_strip_prompts ?? 0, ...(o.copied_seeds !== undefined ? { copiedSeeds: o.copied_seeds } : {}) }));

/** The whole spec, as written in YAML; its output is the typed spec (without file positions). */
export const sweepSpecSchema = strict(
  {
    name: z
      .string({ error: 'required: lower-case letters, digits, . _ - (at most 63)' })
      .regex(NAME_RE, { error: 'required: lower-case letters, digits, . _ - (at most 63)' })
      .meta({ description: 'The sweep id: lower-case letters, digits, . _ - (at most 63).' }),
    models: list(modelSchema),
    dataset: datasetSchema,
    prompting: promptingSchema.optional(),
    seeds: seedsSchema.optional(),
    grid: strict({ positions: list(positionSchema), steps: list(stepSchema), kinds: list(kindSchema) }).optional()
      .meta({ description: 'The grid of diffusion models: positions × steps × kinds (required when a diffusion model is listed).' }),
    ar_grid: arGridSchema.optional(),
    options: optionsSchema.optional(),
  },
  'the spec must be a mapping',
)
  .transform((o) => ({
    name: o.name,
    models: o.models,
    dataset: o.dataset,
    ...(o.prompting ? { prompting: o.prompting } : {}),
    seeds: o.seeds ?? [0],
    ...(o.grid ? { grid: o.grid } : {}),
    ...(o.ar_grid ? { arGrid: o.ar_grid } : {}),
    options: o.options ?? { window: DEFAULT_WINDOW, filmStripPrompts: 0 },
  }))
  .meta({ title: 'faithsweep sweep spec', description: 'A sweep: models x prompts x seeds x grid (docs/spec.md).' });

/** The published JSON Schema of the spec's YAML (docs/spec.schema.json). */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(sweepSpecSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** docs/spec.schema.json as committed: the JSON Schema, two-space indented, with a final newline. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
