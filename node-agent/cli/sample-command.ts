/**
 * `faithsweep sample`: runs one clean sampling run of a bundled model in-process (through
 * the node agent's engine) and prints the answer, or with --show-steps the film strip.
 */
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runClean } from '../engine/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANSI_STYLE, PLAIN_STYLE, renderFilmStrip } from '../film-strip.ts';
import { ErrorCode, FaithsweepError, WarningCode, formatWarning } from '../../common/errors.ts';
import type { FaithsweepWarning } from '../../common/errors.ts';
import { promptFormatMismatch } from '../../common/datasets/arith.ts';
import { isAgentError } from '../../common/agent-errors.ts';
import { silentLogger } from '../../common/log.ts';
import { command } from '../../common/cli/command.ts';
import { parseIntFlag } from '../../common/cli/int-flag.ts';
import { MODE_REMASKINGS, REMASKINGS, REMASKING_PROTO, SAMPLER_MODES, isRemasking } from '../../common/sampler/settings.ts';
import { paraphraseFlag, paraphraseHelp } from './sample-paraphrase.ts';

/**
 * The sampler options' spec names (docs/spec.md `models[].sampler`) and the flags that set them
 * (`mode` is left as a word: the agent's "belongs to mode dream" reads as it is).
 */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  gen_length: '--gen-length',
  block_length: '--block-length',
  steps: '--steps',
  remasking: '--remasking',
  temperature: '--temperature',
  confidence_threshold: '--confidence-threshold',
  threshold_factor: '--threshold-factor',
  top_p: '--top-p',
  end_confidence: '--end-confidence',
  suppress_end: '--suppress-end',
  cfg_scale: '--cfg-scale',
  tie_break: '--tie-break',
};

/** The agent's sampler problem text with each spec field name replaced by the flag that sets it. */
function withFlagNames(message: string): string {
  return message.replace(new RegExp(`\\b(${Object.keys(FLAG_OF_FIELD).join('|')})\\b`, 'g'), (f) => FLAG_OF_FIELD[f]!);
}

/**
 * A number option, or undefined when absent. `ok` is its range and `what` the range in words
 * for the BAD_ARGS message, which names the flag and the value given.
 */
function numFlag(values: Record<string, unknown>, name: string, ok: (x: number) => boolean, what: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(x) || !ok(x)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${name} must be ${what} (got '${String(raw)}')`);
  return x;
}

/** A choice option, or undefined when absent; BAD_ARGS lists the choices. */
function choiceFlag(values: Record<string, unknown>, name: string, choices: readonly string[]): string | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!choices.includes(raw)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${name} must be one of ${choices.join(', ')} (got '${raw}')`);
  return raw;
}

/**
 * An integer option; 0 when absent (the request's "use the card's default"). `min` is 1 for the
 * sampler's lengths (an explicit 0 would silently mean the default) and 0 for --seed.
 */
function intFlag(values: Record<string, unknown>, name: string, min: 0 | 1): number {
  return parseIntFlag(name, values[name], {
    min, max: 0xffffffff,
    what: `${min === 1 ? 'a positive integer' : 'a non-negative integer'} below 2^32`,
    ...(min === 1 ? { hint: `leave --${name} out to use the model card's default` } : {}),
  }) ?? 0;
}

/**
 * Warnings about a raw prompt: one PROMPT_FORMAT_MISMATCH when the model card (model.json in
 * `dir`) has a `prompt_format` the prompt does not follow. Cards without one get none.
 */
function promptWarnings(dir: string, prompt: string): FaithsweepWarning[] {
  const format = (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { prompt_format?: unknown }).prompt_format;
  if (typeof format !== 'string') return [];
  const why = promptFormatMismatch(format, prompt);
  return why ? [{ code: WarningCode.PROMPT_FORMAT_MISMATCH, message: why, hint: 'the model was trained on its prompt_format only; write the prompt in it (models/README.md)' }] : [];
}

export const sampleCommand = command({
  name: 'sample',
  summary: 'Sample one answer from a model and optionally show every denoising step (film strip)',
  args: '--model NAME --prompt TEXT',
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    steps: { type: 'string' },
    'gen-length': { type: 'string' },
    'block-length': { type: 'string' },
    remasking: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    mode: { type: 'string' },
    'confidence-threshold': { type: 'string' },
    'threshold-factor': { type: 'string' },
    'top-p': { type: 'string' },
    'end-confidence': { type: 'string' },
    'suppress-end': { type: 'boolean' },
    'cfg-scale': { type: 'string' },
    'tie-break': { type: 'string' },
    'show-steps': { type: 'boolean' },
    paraphrase: { type: 'string' },
    color: { type: 'boolean' },
  },
  details: [
    '--model NAME          a model under the models folder (FAITHSWEEP_MODELS, default models/)',
    '--prompt TEXT         in the model card prompt_format, e.g. "0347+1285="',
    '--steps N, --gen-length N, --block-length N   override the card defaults',
    `--remasking ${REMASKINGS.join('|')} (maskgit_plus is Dream's alg),  --temperature X,  --seed N`,
    'Sampler mode and its options (docs/sampler.md; the spec\'s models[].sampler fields of the same names):',
    `--mode ${SAMPLER_MODES.join('|')}   the reference the step follows; default the card's, else llada (fast-dllm`,
    '                      when a threshold or factor is given). Remaskings each mode accepts:',
    `                      ${SAMPLER_MODES.map((m) => `${m} ${MODE_REMASKINGS[m].join(', ')}`).join('; ')}`,
    '--confidence-threshold X   fast-dllm: commit the most confident plus every position >= X, X in (0, 1]',
    '--threshold-factor F  fast-dllm: Fast-dLLM\'s factor rule (get_transfer_index_dynamic), F > 0',
    '--top-p P             dream: nucleus filter before the confidence, P in (0, 1] (1 = off)',
    '--end-confidence model|lowest   lowest: a position predicting an end token is committed last',
    '--suppress-end        end tokens are never sampled (LLaDA logits_eos_inf)',
    '--cfg-scale S         llada: classifier-free guidance un + (S + 1)(cond - un), S >= 0 (0 = off)',
    '--tie-break float64|model   how equal confidences are ranked (default float64; model: float32 first)',
    'Bad values are refused (error[BAD_ARGS] naming the flag) before the model runs.',
    '--show-steps          print the film strip: the sequence after every step under a position ruler,',
    '                      tokens committed at that step highlighted, the model\'s current guesses at',
    '                      still-masked positions dimmed, masks without a guess as ·, end tokens as ∎',
    '--color               ANSI colour (default: when stdout is a terminal and NO_COLOR is not set);',
    '                      without colour a marker line under each step shows ^ (committed at this step)',
    '                      and ? (still masked: the token above is the model\'s guess)',
    ...paraphraseHelp,
    'A prompt that does not match the card\'s prompt_format gets warning[PROMPT_FORMAT_MISMATCH] (stderr;',
    '--json: warnings[]); it still runs.',
  ],
  async run(ctx, { values }) {
    const model = values['model'] as string | undefined;
    const prompt = values['prompt'] as string | undefined;
    if (!model) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--model is required', { hint: 'e.g. --model arith-cot' });
    if (!prompt) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--prompt is required', { hint: 'e.g. --prompt "0347+1285="' });
    const remasking = values['remasking'] as string | undefined;
    if (remasking !== undefined && !isRemasking(remasking)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--remasking must be one of ${REMASKINGS.join(', ')}`);
    const temperature = numFlag(values, 'temperature', (x) => x >= 0, 'a number >= 0');
    const mode = choiceFlag(values, 'mode', SAMPLER_MODES);
    const confidenceThreshold = numFlag(values, 'confidence-threshold', (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    const thresholdFactor = numFlag(values, 'threshold-factor', (x) => x > 0, 'a number > 0');
    const topP = numFlag(values, 'top-p', (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    const endConfidence = choiceFlag(values, 'end-confidence', ['model', 'lowest']);
    const cfgScale = numFlag(values, 'cfg-scale', (x) => x >= 0, 'a number >= 0');
    const tieBreak = choiceFlag(values, 'tie-break', ['float64', 'model']);
    const req = RunGroupRequest.fromPartial({
      model,
      prompt,
      seed: intFlag(values, 'seed', 0),
      recordFilmStrip: true,
      sampler: {
        steps: intFlag(values, 'steps', 1),
        genLength: intFlag(values, 'gen-length', 1),
        blockLength: intFlag(values, 'block-length', 1),
        remasking: remasking !== undefined && isRemasking(remasking) ? REMASKING_PROTO[remasking] : undefined,
        temperature,
        ...paraphraseFlag(values['paraphrase']),
        mode,
        confidenceThreshold,
        thresholdFactor,
        topP,
        endConfidence,
        suppressEnd: values['suppress-end'] === true,
        cfgScale,
        tieBreak,
      },
    });
    try {
      const engine = await createOnnxEngine({ modelsDir: ctx.paths.modelsDir, log: silentLogger });
      if (!engine.loaded.has(model)) {
        throw new FaithsweepError(ErrorCode.MODEL_NOT_FOUND, `no model '${model}' in the models folder ${ctx.paths.modelsDir}`, {
          hint: `the models there: ${[...engine.loaded.keys()].join(', ') || 'none'} (another folder: FAITHSWEEP_MODELS)`,
        });
      }
      const g = prepareGroup(engine.loaded, req, 1);
      const warnings = promptWarnings(g.model.dir, prompt);
      if (!ctx.json) for (const w of warnings) ctx.err(formatWarning(w));
      const clean = await runClean(g, new AbortController().signal);
      const t = clean.message;
      if (ctx.json) {
        // The wire message has a plain bool; with no gold answer correctness is unknown, not false.
        ctx.out(JSON.stringify({ ...t, correct: g.gold === null ? null : t.correct, warnings }));
        return;
      }
      if (values['show-steps']) {
        // NO_COLOR (https://no-color.org): any non-empty value turns colour off unless --color asks for it.
        const color = values['color'] ?? (Boolean(process.stdout.isTTY) && !ctx.noColor);
        for (const line of renderFilmStrip(t, g.model.tokenizer, g.model.card.end_token_id, color ? ANSI_STYLE : PLAIN_STYLE)) ctx.out(line);
        ctx.out('');
      }
      ctx.out(`prompt     ${prompt}`);
      ctx.out(`response   ${t.text}`);
      ctx.out(`answer     ${t.answer ?? '(none found)'}`);
      if (t.answerCommitStep !== undefined) ctx.out(`answer fully committed at step ${t.answerCommitStep}, chain of thought at step ${t.cotCommitStep ?? '?'} (of ${g.cfg.steps})`);
    } catch (err) {
      if (isAgentError(err)) {
        if (err.code === 'MODEL_NOT_FOUND') throw new FaithsweepError(ErrorCode.MODEL_NOT_FOUND, err.message);
        if (err.code === 'PARAPHRASE_FAILED') throw new FaithsweepError(ErrorCode.PARAPHRASE_FAILED, err.message);
        // A combination of sampler options the agent refuses (e.g. --top-p outside mode dream).
        if (err.code === 'BAD_SAMPLER') throw new FaithsweepError(ErrorCode.BAD_ARGS, withFlagNames(err.message), {
          hint: /paraphrase/.test(err.message) ? 'see faithsweep sample --help and docs/paraphrase.md for the --paraphrase keys' : 'see faithsweep sample --help and docs/sampler.md for which options each --mode takes',
        });
        throw new FaithsweepError(ErrorCode.BAD_ARGS, err.message);
      }
      throw err;
    }
  },
});
