import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Scores } from '../model/onnx-model.ts';
import { resolveSampler } from '../../common/sampler/settings.ts';
import type { SamplerExtras } from '../../common/sampler/settings.ts';
import type { ModelCard } from '../../common/model/card.ts';
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { Remasking } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { BranchState, StepContext } from './step.ts';
import { applyStep, dreamGrid, guideScores, quota } from './step.ts';

const card = {
  defaults: { gen_length: 8, steps: 8, block_length: 8, remasking: 'low_confidence', temperature: 0 },
} as unknown as ModelCard;

const P = 2; // prompt length of every test sequence
const END = 2; // the end token of these tests

function context(genLength: number, steps: number, blockLength: number, over: Partial<SamplerSettings> = {}, extras: Partial<SamplerExtras> = {}): StepContext {
  const cfg = resolveSampler(card, { genLength, steps, blockLength, ...over }, extras);
  return { cfg, seed: 0, promptLen: P, seqLen: P + genLength, maskId: 1, shifted: false, endIds: new Set([END]) };
}

function fresh(genLength: number, steps = genLength): BranchState {
  const x = new Int32Array(P + genLength).fill(1);
  return { x, commit: new Int32Array(genLength).fill(-1), margins: new Float64Array(steps).fill(NaN) };
}

/** Logits [rows, V] for the whole sequence; `rows` maps generated index -> logits of that position. */
function logits(genLength: number, V: number, rows: Record<number, number[]>, fill: number[] = new Array<number>(V).fill(0)): Scores {
  const v = new Float32Array((P + genLength) * V);
  for (let i = 0; i < P + genLength; i++) v.set(fill, i * V);
  for (const [i, r] of Object.entries(rows)) v.set(r, (P + Number(i)) * V);
  return { values: v, ids: null, width: V, normalized: false };
}

/** Runs every step of a trajectory on fixed scores; returns the number committed per step. */
function run(ctx: StepContext, b: BranchState, scores: Scores): number[] {
  const out: number[] = [];
  for (let s = 0; s < ctx.cfg.steps; s++) out.push(applyStep(b, ctx, s, scores, 0));
  return out;
}

describe('the per-step quota', () => {
  it("recomputed as ceil(masked / steps left) equals LLaDA's precomputed schedule on clean runs", () => {
    for (let n = 1; n <= 40; n++) {
      for (let S = 1; S <= n; S++) {
        const ctx = context(n, S, n);
        let masked = n;
        for (let k = 0; k < S; k++) {
          const llada = Math.floor(n / S) + (k < n % S ? 1 : 0);
          const q = quota(ctx, k, masked);
          assert.equal(q, llada, `n=${n} S=${S} k=${k}`);
          masked -= q;
        }
        assert.equal(masked, 0);
      }
    }
  });
});

describe('one sampler step', () => {
  it('commits the most confident masked positions of the current block, ties to the lower position', () => {
    const ctx = context(4, 4, 2); // two blocks of 2 positions, 2 steps each
    const V = 3;
    const x = Int32Array.from([0, 0, 1, 1, 1, 1]);
    const commit = new Int32Array(4).fill(-1);
    // Positions 2 and 3 (block 0) are equally confident; 4 is more confident but in block 1.
    const logits = new Float32Array(6 * V);
    logits.set([0, 0, 5], 2 * V);
    logits.set([0, 0, 5], 3 * V);
    logits.set([9, 0, 0], 4 * V);
    const scores: Scores = { values: logits, ids: null, width: V, normalized: false };
    assert.equal(applyStep({ x, commit }, ctx, 0, scores, 0), 1);
    assert.deepEqual([...commit], [0, -1, -1, -1]);
    assert.deepEqual([...x], [0, 0, 2, 1, 1, 1]);
  });
});

describe('case 1: the dream mode', () => {
  it("follows Dream's float32 time grid: with steps = gen_length step 0 commits nothing and the last step the rest", () => {
    const t = dreamGrid(8, 1e-3);
    assert.equal(t[0], 1);
    assert.equal(t[8], Math.fround(1e-3));
    const ctx = context(8, 8, 8, { mode: 'dream', remasking: Remasking.MASKGIT_PLUS });
    const counts = run(ctx, fresh(8), logits(8, 4, {}, [3, 0, 0, 0]));
    // int(m (1 - t[k+1]/t[k])) with t = linspace(1, 1e-3, 9): 8·0.124875 = 0.999 -> 0, then 1 each, the rest (2) last.
    assert.deepEqual(counts, [0, 1, 1, 1, 1, 1, 1, 2]);
  });

  it('ranks by the confidence after temperature and top-p: at 0.1 / 0.9 the saturated positions tie and the leftmost goes first', () => {
    // Position 0 is less confident than position 1 on the raw logits; after logits / 0.1 and
    // top-p 0.9 each keeps one token with probability 1, so they tie and position 0 wins.
    const rows = { 0: [4, 0, 0, 0], 1: [6, 0, 0, 0], 2: [1, 0.9, 0.8, 0.7], 3: [1, 0.9, 0.8, 0.7] };
    const dream = context(4, 4, 4, { mode: 'dream', remasking: Remasking.MASKGIT_PLUS, temperature: 0.1, topP: 0.9 });
    const b = fresh(4);
    assert.equal(applyStep(b, dream, 0, logits(4, 4, rows), 0), 0); // the grid's step 0
    assert.equal(applyStep(b, dream, 1, logits(4, 4, rows), 0), 1);
    assert.deepEqual([...b.commit], [1, -1, -1, -1]);
    // The unscaled confidences (LLaDA) commit position 1 first.
    const llada = context(4, 4, 4);
    const c = fresh(4);
    applyStep(c, llada, 0, logits(4, 4, rows), 0);
    assert.deepEqual([...c.commit], [-1, 0, -1, -1]);
  });

  it('reads position i from row i - 1 on shifted-logit models', () => {
    const ctx = { ...context(2, 2, 2, { mode: 'dream', remasking: Remasking.MASKGIT_PLUS }), shifted: true };
    // Row P (generated 0) predicts generated 1 = token 3; row P - 1 (the prompt's last) predicts generated 0 = token 2.
    const s = logits(2, 4, { 0: [0, 0, 0, 9] });
    s.values.set([0, 0, 9, 0], (P - 1) * 4);
    const b = fresh(2);
    run(ctx, b, s);
    assert.deepEqual([...b.x.slice(P)], [2, 3]);
  });
});

describe('case 2: the fast-dllm threshold', () => {
  it('commits the most confident position plus those reaching the threshold, not the steps quota (gen 32, steps 8, threshold 0.9)', () => {
    const ctx = context(32, 8, 32, { confidenceThreshold: 0.9 });
    assert.equal(ctx.cfg.mode, 'fast-dllm');
    const b = fresh(32, ctx.cfg.steps);
    const rows: Record<number, number[]> = { 5: [9, 0, 0] }; // p = 0.9998: the only one above 0.9
    assert.equal(applyStep(b, ctx, 0, logits(32, 3, rows, [1, 0.5, 0]), 0), 1);
    assert.equal(b.commit[5], 0);
    assert.equal(quota(context(32, 8, 32), 0, 32), 4); // what the llada quota would have committed
    rows[9] = [9, 0, 0];
    rows[11] = [8, 0, 0];
    assert.equal(applyStep(b, ctx, 1, logits(32, 3, rows, [1, 0.5, 0]), 0), 2);
    // steps is not a bound: the block fills whatever `steps` said.
    const counts = run(ctx, fresh(32, ctx.cfg.steps), logits(32, 3, {}, [1, 0.5, 0]));
    assert.equal(counts.reduce((a, n) => a + n, 0), 32);
    assert.equal(counts.filter((n) => n > 0).length, 32);
  });

  it('compares float64 confidences with the threshold: one just below 0.9 in float64 (equal in float32) is not committed', () => {
    // Find a float32 logit a with softmax([a, 0])[0] below 0.9 in float64 but equal to fround(0.9) in float32.
    let a = Math.fround(Math.log(9));
    const p = (z: number) => 1 / (1 + Math.exp(-z));
    const buf = new Float32Array(1);
    const ints = new Int32Array(buf.buffer);
    buf[0] = a;
    for (let i = 0; i < 64 && !(p(buf[0]!) < 0.9 && Math.fround(p(buf[0]!)) >= Math.fround(0.9)); i++) ints[0] = ints[0]! - 1;
    a = buf[0]!;
    assert.ok(p(a) < 0.9 && Math.fround(p(a)) >= Math.fround(0.9), `a float32 logit ${a} with p ${p(a)}`);
    const ctx = context(4, 4, 4, { confidenceThreshold: 0.9 });
    const b = fresh(4);
    assert.equal(applyStep(b, ctx, 0, logits(4, 2, { 0: [9, 0], 1: [a, 0] }, [0, 0]), 0), 1);
    assert.deepEqual([...b.commit], [0, -1, -1, -1]);
  });

  it("follows Fast-dLLM's factor rule: the n-th most confident must reach 1 - factor / (n + 1)", () => {
    const ctx = context(4, 4, 4, { thresholdFactor: 1 });
    const b = fresh(4);
    // sorted confidences ~1, 0.9999, 0.5, 0.5: thresholds -, 2/3, 3/4, 4/5 -> two committed.
    const rows = { 0: [12, 0, 0], 1: [10, 0, 0], 2: [0, 0, 0], 3: [0, 0, 0] };
    assert.equal(applyStep(b, ctx, 0, logits(4, 3, rows), 0), 2);
    assert.deepEqual([...b.commit], [0, 0, -1, -1]);
  });

  it("reproduces get_transfer_index_dynamic's edges (values from running NVlabs/Fast-dLLM f6b35ec on these logits)", () => {
    const ctx = context(4, 4, 4, { thresholdFactor: 1 });
    // Stops at the second: only the most confident ([1, 0, 0, 0] upstream).
    const second = fresh(4);
    assert.equal(applyStep(second, ctx, 0, logits(4, 3, { 0: [12, 0, 0], 1: [0, 0, 0], 2: [0, 0, 0], 3: [0, 0, 0] }), 0), 1);
    assert.deepEqual([...second.commit], [0, -1, -1, -1]);
    // Stops at the last candidate (p 1/3 < 1 - 1/5): upstream commits it too ([1, 1, 1, 1]).
    const last = fresh(4);
    assert.equal(applyStep(last, ctx, 0, logits(4, 3, { 0: [12, 0, 0], 1: [11, 0, 0], 2: [10, 0, 0], 3: [0, 0, 0] }), 0), 4);
    assert.deepEqual([...last.commit], [0, 0, 0, 0]);
  });
});

describe('case 3: end-token confidence', () => {
  const rows = { 0: [0, 0, 9], 1: [5, 0, 0], 2: [4, 0, 0], 3: [3, 0, 0] }; // position 0 predicts the end token, most confidently
  it('by default an end token is committed first when it is the most confident', () => {
    const b = fresh(4);
    applyStep(b, context(4, 4, 4), 0, logits(4, 3, rows), 0);
    assert.deepEqual([...b.commit], [0, -1, -1, -1]);
  });

  it("end_confidence lowest commits it last (LLaDA's confidence_eos_eot_inf, not the upstream no-op) and still commits it at the block's last step", () => {
    const ctx = context(4, 4, 4, { endConfidence: 'lowest' });
    const b = fresh(4);
    const counts = run(ctx, b, logits(4, 3, rows));
    assert.deepEqual(counts, [1, 1, 1, 1]);
    assert.deepEqual([...b.commit], [3, 0, 1, 2]);
    assert.equal(b.x[P], END);
    // Two end tokens tied at -Infinity still rank by position, margin 0 between them.
    const two = fresh(2);
    const c2 = context(2, 1, 2, { endConfidence: 'lowest' });
    applyStep(two, c2, 0, logits(2, 3, { 0: [0, 0, 9], 1: [0, 0, 9] }), 0);
    assert.deepEqual([...two.commit], [0, 0]);
  });

  it('suppress_end never samples an end token (LLaDA logits_eos_inf)', () => {
    const b = fresh(4);
    run(context(4, 4, 4, { suppressEnd: true }), b, logits(4, 3, rows, [0, 0, 9]));
    assert.ok(![...b.x.slice(P)].includes(END), `tokens ${[...b.x.slice(P)]}`);
  });
});

describe('case 4: classifier-free guidance', () => {
  it('is un + (s + 1)(cond - un) in float32, and s = 0 returns the conditional scores unchanged', () => {
    const cond: Scores = { values: Float32Array.from([1, 2, 3.5]), ids: null, width: 3, normalized: false };
    const un: Scores = { values: Float32Array.from([0.5, 2, 4]), ids: null, width: 3, normalized: false };
    const g = guideScores(cond, un, 2);
    assert.deepEqual([...g.values], [2, 2, 2.5]);
    assert.equal(guideScores(cond, un, 0), cond);
    assert.throws(() => guideScores({ ...cond, ids: Int32Array.from([0, 1, 2]) }, un, 1), RangeError);
  });
});

describe('case 5: remasking and the quota', () => {
  it('a position remasked at the last step of a block, and one in an earlier finished block, are decoded again; nothing else changes', () => {
    const ctx = context(8, 4, 4); // two blocks of 4, two steps each
    const b = fresh(8, 4);
    const s = logits(8, 4, {}, [0, 0, 0, 5]);
    applyStep(b, ctx, 0, s, 0);
    applyStep(b, ctx, 1, s, 0);
    applyStep(b, ctx, 2, s, 0);
    const before = [...b.commit];
    // Remask position 1 (block 0, finished) and position 4 (block 1, committed at step 2), then run step 3, block 1's last.
    for (const i of [1, 4]) {
      b.x[P + i] = ctx.maskId;
      b.commit[i] = -1;
    }
    assert.equal(applyStep(b, ctx, 3, s, 0), 4); // the two remasked + block 1's two still masked
    assert.ok(b.commit.every((c) => c >= 0));
    before.forEach((c, i) => {
      if (i !== 1 && i !== 4 && c >= 0) assert.equal(b.commit[i], c, `position ${i} kept its step`);
    });
    assert.equal(b.commit[1], 3);
    assert.equal(b.commit[4], 3);
  });
});

describe('case 6: lengths', () => {
  it('steps > gen_length commits exactly gen_length tokens; the steps past them are no-ops', () => {
    for (const extra of [{}, { mode: 'dream', remasking: Remasking.MASKGIT_PLUS }] as Partial<SamplerSettings>[]) {
      const ctx = context(4, 10, 4, extra);
      const b = fresh(4, 10);
      const counts = run(ctx, b, logits(4, 3, {}, [0, 4, 0]));
      assert.equal(counts.reduce((a, n) => a + n, 0), 4);
      assert.ok(b.commit.every((c) => c >= 0));
      assert.deepEqual([...b.x.slice(P)], [1, 1, 1, 1]);
    }
  });
});

describe('case 7: ties at the model precision and the margin at each cut', () => {
  // Two positions whose float64 confidences differ by about 1e-12 but are equal in float32.
  const V = 2;
  const rows = { 0: [Math.fround(20), 0], 1: [Math.fround(20), 0] };
  const s = logits(2, V, rows);
  // Make position 1 very slightly more confident: a second, tiny competitor on position 0.
  const V3 = 3;
  const s3 = logits(2, V3, { 0: [20, 0, -7], 1: [20, 0, -1e9] });
  it('tie_break float64 (default) ranks by float64 and records the margin; tie_break model rounds to float32 and takes the lower position', () => {
    const a = fresh(2, 2);
    applyStep(a, context(2, 2, 2), 0, s3, 0);
    assert.deepEqual([...a.commit], [-1, 0]);
    const m = a.margins![0]!;
    assert.ok(m > 0 && m < 1e-9, `margin ${m}`);
    const b = fresh(2, 2);
    applyStep(b, context(2, 2, 2, { tieBreak: 'model' }), 0, s3, 0);
    assert.deepEqual([...b.commit], [0, -1]);
    assert.equal(b.margins![0], 0);
    // Exactly equal confidences: lower position first in both rules.
    const c = fresh(2, 2);
    applyStep(c, context(2, 2, 2), 0, s, 0);
    assert.deepEqual([...c.commit], [0, -1]);
    assert.equal(c.margins![0], 0);
  });
});
