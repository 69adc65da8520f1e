// npm run bench:agent — cells/s of the agent on arith-cot, measured side by side in one run:
//   (a) naive:  every cell its own full sampling run, batch 1 (timed on every 12th cell: --naive-every)
//   (b) forked: the agent's path (clean run once, branches batched, determined cells skipped)
//   (c) bound:  the same forward passes as (b), same batch shapes, bare onnxruntime calls
// Grid: 100 prompts x (every chain-of-thought position x 8 steps x replace:random).
import { parseArgs } from 'node:util';
import type { RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest as Req } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runAlone, runClean, runForked } from '../node-agent/engine/index.ts';
import type { OnnxModel } from '../node-agent/model/onnx-model.ts';
import { arithProblems } from '../orchestrator/datasets/arith.ts';
import { resolvePaths } from '../orchestrator/config/paths.ts';
import { silentLogger } from '../orchestrator/log.ts';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '100' },
    'naive-every': { type: 'string', default: '12' },
    steps: { type: 'string', default: '8' },
    'max-batch': { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    model: { type: 'string', default: 'arith-cot' },
  },
});
const nPrompts = Number(values.prompts);
const naiveEvery = Number(values['naive-every']);
const nSteps = Number(values.steps);
const maxBatch = Number(values['max-batch']);
const never = new AbortController().signal;

const engine = await createOnnxEngine({ modelsDir: resolvePaths(process.env).modelsDir, intraOpThreads: Number(values.threads), maxBatch, log: silentLogger });
const base = engine.loaded.get(values.model!)!;
const shapes: number[] = [];
const model: OnnxModel = { ...base, forward: (t, rows, len) => (shapes.push(rows), base.forward(t, rows, len)) };
const models = new Map([[base.card.name, model]]);
const T = base.card.defaults.steps;
const problems = arithProblems(20261127, nPrompts, (base.card as unknown as { prompt_format?: string }).prompt_format);

/** The grid of one prompt, resolved against its clean trajectory's chain-of-thought span. */
async function requestFor(prompt: string, gold: string): Promise<RunGroupRequest> {
  const probe = prepareGroup(models, Req.fromPartial({ model: base.card.name, prompt, goldAnswer: gold }), maxBatch);
  const clean = await runClean(probe, never);
  const cot = clean.spans.cot ?? { start: 0, end: 0 };
  const interventions = [];
  for (let k = 0; k < nSteps; k++) {
    const t = Math.floor((k * T) / nSteps);
    for (let p = cot.start; p < cot.end; p++) interventions.push({ key: `${t}.${p}`, kind: InterventionKind.REPLACE, variant: ReplaceVariant.RANDOM_TOKEN, step: t, position: p });
  }
  return Req.fromPartial({ model: base.card.name, prompt, goldAnswer: gold, seed: 1, interventions });
}

const requests: RunGroupRequest[] = [];
for (const p of problems) requests.push(await requestFor(p.prompt, p.gold));
const totalCells = requests.reduce((n, r) => n + r.interventions.length, 0);

// The three paths are interleaved prompt by prompt, so load from other work on this shared
// machine hits all of them alike and the ratios stay meaningful.
const L = requests.length ? prepareGroup(models, requests[0]!, maxBatch).ctx.seqLen : 0;
const tokens = new Int32Array(maxBatch * L).fill(base.card.mask_token_id);
let forkedS = 0;
let boundS = 0;
let naiveS = 0;
let naiveCells = 0;
let skipped = 0;
const forkedShapes: number[] = [];
for (const req of requests) {
  // (b) forked
  shapes.length = 0;
  let t0 = performance.now();
  await runForked(prepareGroup(models, req, maxBatch), { signal: never, emit: (e) => void (e.event?.$case === 'result' && e.event.value.skipped && skipped++) });
  forkedS += (performance.now() - t0) / 1000;
  const passes = [...shapes];
  forkedShapes.push(...passes);
  // (c) bound: the same passes through onnxruntime, no sampler logic
  t0 = performance.now();
  for (const rows of passes) await base.forward(tokens.subarray(0, rows * L), rows, L);
  boundS += (performance.now() - t0) / 1000;
  // (a) naive, on every naiveEvery-th cell
  const g = prepareGroup(models, req, 1);
  const clean = await runClean(g, never);
  t0 = performance.now();
  for (const [n, iv] of g.interventions.entries()) {
    if (n % naiveEvery !== 0 || iv.kind === 'probe') continue;
    await runAlone(g, clean, iv);
    naiveCells++;
  }
  naiveS += (performance.now() - t0) / 1000;
}

const rate = (cells: number, s: number) => cells / s;
const a = rate(naiveCells, naiveS);
const b = rate(totalCells, forkedS);
const c = rate(totalCells, boundS);
const rows = forkedShapes.reduce((x, y) => x + y, 0);
console.log(`\nagent benchmark: ${values.model}, ${nPrompts} prompts x (chain-of-thought positions x ${nSteps} steps x replace:random) = ${totalCells} cells; T=${T}, max batch ${maxBatch}, ${values.threads} threads`);
console.log(`forked path: ${forkedShapes.length} forward passes, mean batch ${(rows / Math.max(1, forkedShapes.length)).toFixed(1)}, ${skipped} cells skipped as determined\n`);
console.log('| path | cells | seconds | cells/s |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| (a) naive, batch 1 (every ${naiveEvery}th cell) | ${naiveCells} | ${naiveS.toFixed(2)} | ${a.toFixed(1)} |`);
console.log(`| (b) forked + batched | ${totalCells} | ${forkedS.toFixed(2)} | ${b.toFixed(1)} |`);
console.log(`| (c) bound: same passes, bare onnxruntime | ${totalCells} | ${boundS.toFixed(2)} | ${c.toFixed(1)} |`);
console.log(`\n(b)/(a) = ${(b / a).toFixed(2)}   (target >= 5)`);
console.log(`(b)/(c) = ${(b / c).toFixed(3)}   (target >= 0.8)`);
