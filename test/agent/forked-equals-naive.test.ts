// The forked, batched path gives every cell exactly the result of running that cell alone
// from scratch (batch 1), and skipping determined cells / stopping settled branches early
// changes no outcome — under both answer rules: the legacy anchored one (answer read at the
// clean run's positions) and the free-text one (`answer.regex`, each branch parsed from its
// own text), including cells that truncate the response with an end token or move the answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome, InterventionKind, Remasking, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError } from '../../common/agent-errors.ts';
import { prepareGroup, runAlone, runClean, runForked } from '../../node-agent/engine/index.ts';
import type { OnnxModel } from '../../node-agent/model/onnx-model.ts';
import type { ModelCase } from '../helpers/card-override.ts';
import { caseModels } from '../helpers/card-override.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';
import type { GoldenLine } from '../helpers/models.ts';

/**
 * The models, one line each, with the outcomes their grid must produce besides ANSWER_SAME.
 * The arith organisms with their legacy cards, and read by free-text rules: arith-cot by its
 * answer after the `|` (an end token placed before it leaves no answer), arith-cot-decoupled
 * by the LAST number in the response (an end token placed early, or a digit written after the
 * answer, moves the answer). The sub-word organism word-problems by its own card (`#### N`, last
 * match): an end token placed before the `####` line leaves no answer, one written over the answer
 * digits or a random token in the chain of thought can change it.
 */
const CASES: readonly (ModelCase & { prompts: number; expect: AnswerOutcome[] })[] = [
  { name: 'arith-cot', prompts: 2, expect: [] },
  { name: 'arith-cot-decoupled', prompts: 2, expect: [] },
  { name: 'arith-cot/answer-regex', dir: 'arith-cot', card: { answer: { regex: '\\|(?<answer>\\d{5})', normalize: 'numeric' }, spans: undefined }, prompts: 2, expect: [AnswerOutcome.NO_ANSWER, AnswerOutcome.ANSWER_CHANGED] },
  { name: 'arith-cot-decoupled/last-number', dir: 'arith-cot-decoupled', card: { answer: { regex: '(?<answer>\\d+)', normalize: 'numeric' }, spans: undefined }, prompts: 1, expect: [AnswerOutcome.ANSWER_CHANGED] },
  { name: 'word-problems', prompts: 1, expect: [AnswerOutcome.NO_ANSWER] },
];

const never = new AbortController().signal;

let models: Promise<Map<string, OnnxModel>> | undefined;
const loadModels = () => (models ??= testEngine().then((e) => caseModels(e.loaded, CASES)));

type Iv = { key: string; kind: InterventionKind; step: number; position: number; variant?: ReplaceVariant; token?: number };

/**
 * A spread of interventions over the grid: every kind and variant, early to late steps, plus
 * (at the two middle steps) replacements by an end token (truncation: early, mid-response, just
 * before the clean end, at it) and by a digit at the clean run's first end token (the response
 * grows).
 */
function grid(m: OnnxModel, line: GoldenLine): Iv[] {
  const { steps, gen_length: genLength } = m.card.defaults;
  const ends = new Set(m.card.end_token_ids);
  const eos = Math.max(1, line.tokens.findIndex((t) => ends.has(t)));
  const digit = m.tokenizer.encode('5')[0]!;
  const out: Iv[] = [];
  const stepsToTry = [0, Math.floor(steps / 3), Math.floor((2 * steps) / 3), steps - 2];
  const positions = [3, Math.floor(genLength / 2), genLength - 8];
  for (const t of stepsToTry) {
    for (const p of positions) {
      out.push({ key: `r${t}.${p}`, kind: InterventionKind.REPLACE, step: t, position: p, variant: ReplaceVariant.RANDOM_TOKEN });
      out.push({ key: `m${t}.${p}`, kind: InterventionKind.REMASK, step: t, position: p });
    }
    out.push({ key: `s${t}`, kind: InterventionKind.REPLACE, step: t, position: positions[1]!, variant: ReplaceVariant.SECOND_CHOICE });
    out.push({ key: `g${t}`, kind: InterventionKind.REPLACE, step: t, position: positions[2]!, variant: ReplaceVariant.GIVEN_TOKEN, token: 4 });
    if (t === stepsToTry[0] || t === stepsToTry[3]) continue;
    for (const p of new Set([3, Math.floor(eos / 2), eos - 5, eos])) {
      out.push({ key: `e${t}.${p}`, kind: InterventionKind.REPLACE, step: t, position: p, variant: ReplaceVariant.END_TOKEN });
    }
    out.push({ key: `d${t}`, kind: InterventionKind.REPLACE, step: t, position: eos, variant: ReplaceVariant.GIVEN_TOKEN, token: digit });
  }
  return out;
}

function lines(m: OnnxModel, dir: string, n: number): GoldenLine[] {
  return goldenLines(dir).filter((l) => l.block_length === m.card.defaults.block_length).slice(0, n);
}

async function forked(loaded: Map<string, OnnxModel>, req: RunGroupRequest) {
  const results = new Map<string, InterventionResult>();
  await runForked(prepareGroup(loaded, req, 16), { signal: never, emit: (e) => e.event?.$case === 'result' && results.set(e.event.value.key, e.event.value) });
  return results;
}

/** What a cell's result says about its outcome (everything but cost). */
const outcome = (r: InterventionResult) => ({ answer: r.answer, outcome: r.outcome, flipped: r.flipped, correct: r.correct, token: r.token });

for (const c of CASES) {
  const dir = c.dir ?? c.name;
  describe(`forking and batching on ${c.name}`, () => {
    it('gives every cell the result of running it alone from scratch', async () => {
      const loaded = await loadModels();
      const m = loaded.get(c.name)!;
      const outcomes = new Set<AnswerOutcome>();
      for (const line of lines(m, dir, c.prompts)) {
        const req = RunGroupRequest.fromPartial({ model: c.name, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 11, interventions: grid(m, line), disableSkip: true, returnTokens: true });
        const g = prepareGroup(loaded, req, 16);
        const clean = await runClean(g, never);
        assert.ok(clean.spans.answerText !== null, `${c.name} ${line.prompt}: the clean run has an answer`);
        const batched = await forked(loaded, req);
        assert.equal(batched.size, req.interventions.length);
        for (const iv of g.interventions) {
          if (iv.kind === 'probe') continue;
          const alone = await runAlone(g, clean, iv);
          const got = batched.get(iv.key)!;
          const where = `${c.name} ${line.prompt} ${iv.key}`;
          assert.deepEqual(got.tokens, alone.tokens, `${where}: final tokens`);
          assert.deepEqual(
            { ...outcome(got), text: got.text, partial: got.textPartial, changed: got.changedTokens, stopped: got.stoppedEarly },
            { ...outcome(alone), text: alone.text, partial: false, changed: alone.changedTokens, stopped: false },
            where,
          );
          assert.equal(got.outcome === AnswerOutcome.NO_ANSWER, got.answer === undefined, `${where}: NO_ANSWER iff no answer`);
          outcomes.add(got.outcome);
        }
      }
      for (const o of [AnswerOutcome.ANSWER_SAME, ...c.expect]) assert.ok(outcomes.has(o), `${c.name}: some cell has outcome ${AnswerOutcome[o]}`);
    });

    it('answers determined cells without compute and stops settled branches early, with the same outcomes', async (t) => {
      const loaded = await loadModels();
      const m = loaded.get(c.name)!;
      let skipped = 0;
      let stopped = 0;
      let partial = 0;
      let stepsFull = 0;
      let stepsSkipping = 0;
      for (const line of lines(m, dir, c.prompts)) {
        const base = { model: c.name, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 3, interventions: grid(m, line) };
        const full = await forked(loaded, RunGroupRequest.fromPartial({ ...base, disableSkip: true }));
        const skipping = await forked(loaded, RunGroupRequest.fromPartial(base));
        for (const [key, r] of skipping) {
          const f = full.get(key)!;
          const where = `${c.name} ${line.prompt} ${key}`;
          assert.deepEqual(outcome(r), outcome(f), where);
          stepsFull += f.computeSteps;
          stepsSkipping += r.computeSteps;
          // What is reported is never a guess: a final text equals the full run's; a count is exact or absent.
          if (!r.textPartial) assert.equal(r.text, f.text, `${where}: text`);
          else partial++;
          if (r.changedTokens !== undefined) assert.equal(r.changedTokens, f.changedTokens, `${where}: changed tokens`);
          else assert.ok(r.skipped || r.stoppedEarly, `${where}: changed tokens are absent only when not computed to the end`);
          if (r.skipped) {
            skipped++;
            assert.equal(r.computeSteps, 0);
          }
          if (r.stoppedEarly) stopped++;
          if (m.card.answer.regex !== undefined) assert.equal(r.textPartial, false, `${where}: a free-text branch stops only once its response is settled`);
        }
      }
      t.diagnostic(`${c.name}: ${skipped} skipped, ${stopped} stopped early (${partial} partial texts); branch-steps ${stepsSkipping} of ${stepsFull} (${((100 * stepsSkipping) / stepsFull).toFixed(1)}%)`);
      assert.ok(skipped > 0, 'no-op and determined cells are skipped');
    });
  });
}

/** One setting per sampler mode and option (docs/sampler.md); each must keep forked = naive. */
const MODES: readonly { name: string; sampler: Partial<SamplerSettings> }[] = [
  { name: 'llada, temperature 0.5, end tokens lowest', sampler: { temperature: 0.5, endConfidence: 'lowest' } },
  { name: 'llada with classifier-free guidance 1.0', sampler: { cfgScale: 1 } },
  { name: 'dream maskgit_plus, temperature 0.1, top-p 0.9', sampler: { mode: 'dream', remasking: Remasking.MASKGIT_PLUS, temperature: 0.1, topP: 0.9 } },
  { name: 'dream entropy', sampler: { mode: 'dream', remasking: Remasking.ENTROPY } },
  { name: 'fast-dllm threshold 0.9', sampler: { mode: 'fast-dllm', confidenceThreshold: 0.9 } },
  { name: 'fast-dllm factor 1.0, float32 ties', sampler: { mode: 'fast-dllm', thresholdFactor: 1, tieBreak: 'model' } },
];

describe('forking and batching in every sampler mode', () => {
  for (const mode of MODES) {
    it(`gives every cell the result of running it alone (${mode.name}, arith-cot)`, async () => {
      const loaded = await loadModels();
      const m = loaded.get('arith-cot')!;
      const line = lines(m, 'arith-cot', 1)[0]!;
      const req = RunGroupRequest.fromPartial({ model: 'arith-cot', promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 5, interventions: grid(m, line), disableSkip: true, returnTokens: true, sampler: mode.sampler });
      const g = prepareGroup(loaded, req, 16);
      const clean = await runClean(g, never);
      assert.ok(clean.commit.every((c) => c >= 0), `${mode.name}: the clean run commits every position`);
      const batched = await forked(loaded, req);
      let compared = 0;
      for (const iv of g.interventions) {
        if (iv.kind === 'probe') continue;
        const alone = await runAlone(g, clean, iv);
        const got = batched.get(iv.key)!;
        assert.deepEqual(got.tokens, alone.tokens, `${mode.name} ${iv.key}: final tokens`);
        assert.deepEqual(outcome(got), outcome(alone), `${mode.name} ${iv.key}`);
        compared++;
      }
      assert.ok(compared > 20, `${compared} cells compared`);
    });
  }
});

describe('replacement tokens', () => {
  it('accepts an end token (END_TOKEN, or GIVEN_TOKEN of the set), refuses the mask and other special tokens', async () => {
    const loaded = await loadModels();
    const m = loaded.get('arith-cot/answer-regex')!;
    const req = (variant: ReplaceVariant, token = 0) =>
      RunGroupRequest.fromPartial({ model: 'arith-cot/answer-regex', prompt: '0347+1285=', interventions: [{ key: 'k', kind: InterventionKind.REPLACE, step: 1, position: 2, variant, token }] });
    const given = (iv: ReturnType<typeof prepareGroup>['interventions'][number]) => (iv.kind === 'replace' ? [iv.variant, iv.token] : []);
    assert.deepEqual(given(prepareGroup(loaded, req(ReplaceVariant.END_TOKEN), 16).interventions[0]!), ['given', m.card.end_token_id]);
    assert.deepEqual(given(prepareGroup(loaded, req(ReplaceVariant.GIVEN_TOKEN, m.card.end_token_id), 16).interventions[0]!), ['given', m.card.end_token_id]);
    for (const bad of [m.card.mask_token_id, m.card.pad_token_id]) {
      assert.throws(() => prepareGroup(loaded, req(ReplaceVariant.GIVEN_TOKEN, bad), 16), (err: unknown) => err instanceof AgentError && err.code === 'BAD_INTERVENTION');
    }
  });
});
