/**
 * `faithsweep sample`: runs one clean sampling run of a bundled model in-process (through
 * the node agent's engine) and prints the answer, or with --show-steps the film strip.
 */
import { RunGroupRequest, Remasking } from '../../generated/proto/faithsweep/v1/agent.ts';
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

const REMASKING: Record<string, Remasking> = {
  low_confidence: Remasking.LOW_CONFIDENCE,
  random: Remasking.RANDOM,
  entropy: Remasking.ENTROPY,
  topk_margin: Remasking.TOPK_MARGIN,
};

/**
 * An integer option; 0 when absent (the request's "use the card's default"). `min` is 1 for the
 * sampler's lengths (an explicit 0 would silently mean the default) and 0 for --seed.
 */
function intFlag(values: Record<string, unknown>, name: string, min: 0 | 1): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  const n = Number(raw);
  const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
  if (String(raw).trim() === '' || !Number.isInteger(n) || n < min || n > 0xffffffff) {
    const hint = min === 1 ? { hint: `leave --${name} out to use the model card's default` } : {};
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${name} must be ${what} below 2^32 (got '${String(raw)}')`, hint);
  }
  return n;
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
    'show-steps': { type: 'boolean' },
    color: { type: 'boolean' },
  },
  details: [
    '--model NAME          a model under the models folder (FAITHSWEEP_MODELS, default models/)',
    '--prompt TEXT         in the model card prompt_format, e.g. "0347+1285="',
    '--steps N, --gen-length N, --block-length N   override the card defaults',
    '--remasking low_confidence|random|entropy|topk_margin,  --temperature X,  --seed N',
    '--show-steps          print the film strip: the sequence after every step under a position ruler,',
    '                      tokens committed at that step highlighted, the model\'s current guesses at',
    '                      still-masked positions dimmed, masks without a guess as ·, end tokens as ∎',
    '--color               ANSI colour (default: when stdout is a terminal and NO_COLOR is not set);',
    '                      without colour a marker line under each step shows ^ (committed at this step)',
    '                      and ? (still masked: the token above is the model\'s guess)',
    'A prompt that does not match the card\'s prompt_format gets warning[PROMPT_FORMAT_MISMATCH] (stderr;',
    '--json: warnings[]); it still runs.',
  ],
  async run(ctx, { values }) {
    const model = values['model'] as string | undefined;
    const prompt = values['prompt'] as string | undefined;
    if (!model) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--model is required', { hint: 'e.g. --model arith-cot' });
    if (!prompt) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--prompt is required', { hint: 'e.g. --prompt "0347+1285="' });
    const remasking = values['remasking'] as string | undefined;
    if (remasking !== undefined && !REMASKING[remasking]) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--remasking must be one of ${Object.keys(REMASKING).join(', ')}`);
    const temperature = values['temperature'] === undefined ? undefined : Number(values['temperature']);
    if (temperature !== undefined && !(temperature >= 0)) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--temperature must be a number >= 0');
    const req = RunGroupRequest.fromPartial({
      model,
      prompt,
      seed: intFlag(values, 'seed', 0),
      recordFilmStrip: true,
      sampler: {
        steps: intFlag(values, 'steps', 1),
        genLength: intFlag(values, 'gen-length', 1),
        blockLength: intFlag(values, 'block-length', 1),
        remasking: remasking ? REMASKING[remasking] : undefined,
        temperature,
      },
    });
    try {
      const engine = await createOnnxEngine({ modelsDir: ctx.paths.modelsDir, log: silentLogger });
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
        const color = values['color'] ?? (Boolean(process.stdout.isTTY) && !ctx.env['NO_COLOR']);
        for (const line of renderFilmStrip(t, g.model.tokenizer, g.model.card.end_token_id, color ? ANSI_STYLE : PLAIN_STYLE)) ctx.out(line);
        ctx.out('');
      }
      ctx.out(`prompt     ${prompt}`);
      ctx.out(`response   ${t.text}`);
      ctx.out(`answer     ${t.answer ?? '(none found)'}`);
      if (t.answerCommitStep !== undefined) ctx.out(`answer fully committed at step ${t.answerCommitStep}, chain of thought at step ${t.cotCommitStep ?? '?'} (of ${g.cfg.steps})`);
    } catch (err) {
      if (isAgentError(err)) throw new FaithsweepError(err.code === 'MODEL_NOT_FOUND' ? ErrorCode.MODEL_NOT_FOUND : ErrorCode.BAD_ARGS, err.message);
      throw err;
    }
  },
});
