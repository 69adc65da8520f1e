// npm run bench:agent — cells/s of the agent on arith-cot, measured side by side in one run:
//   (a) naive:  every cell its own full sampling run, batch 1 (timed on every 12th cell: --naive-every)
//   (b) forked: the agent's path (clean run once, branches batched, determined cells skipped)
//   (c) bound:  the same forward passes as (b), same batch shapes, bare onnxruntime calls
// Grid: 100 prompts x (every chain-of-thought position x 8 steps x replace:random).
// Then, in the same run, at V = 151,936 (a synthetic model of hidden size 8,
// models/export/synthetic_vocab.py): the same work unit through full logits and through fused
// top-k (K = 64), each in its own process (test/agent/vocab-memory-child.ts), side by side with
// the ratio top-k / full of cells/s and of peak RSS (--vocab-steps N, 0 = skip).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest as Req } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runAlone, runClean, runForked } from '../node-agent/engine/index.ts';
import type { OnnxModel } from '../node-agent/model/onnx-model.ts';
import { arithProblems } from '../common/datasets/arith.ts';
import { REPO_ROOT, resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { benchArgs } from './args.ts';

const values = benchArgs('bench:agent', [
  "The agent's cells/s side by side in one run: every cell its own sampling run, the agent's",
  'forked path, and the bare forward passes of the same shapes; then at a vocabulary-sized V.',
], {
  prompts: { type: 'string', default: '100', help: 'prompts of the grid', number: { min: 1 } },
  'naive-every': { type: 'string', default: '12', help: 'time the naive path on every Nth cell', number: { min: 1 } },
  steps: { type: 'string', default: '8', help: 'steps per position in the grid', number: { min: 1 } },
  'max-batch': { type: 'string', default: '64', help: 'branches per forward pass', number: { min: 1, max: 65_536 } },
  threads: { type: 'string', default: '2', help: 'onnxruntime intra-op threads', number: { min: 0, max: 1024 } },
  model: { type: 'string', default: 'arith-cot', help: 'a model under the models folder' },
  'vocab-steps': { type: 'string', default: '2', help: 'steps of the vocabulary-sized run', number: { min: 1 } },
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

// --- V = 151,936: full logits vs fused top-k ------------------------------------------------
const vocabSteps = Number(values['vocab-steps']);
if (vocabSteps > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'faithsweep-bench-vocab-'));
  try {
    const py = (args: string[]) => {
      const r = spawnSync(join(REPO_ROOT, 'models', '.venv', 'bin', 'python'), args, { cwd: REPO_ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`python ${args.join(' ')}: ${r.stderr}`);
    };
    py(['-m', 'models.export.synthetic_vocab', '--out', join(dir, 'full'), '--topk', '0', '--max-seq-len', '512']);
    py(['-m', 'models.export.add_topk_outputs', '--model', join(dir, 'full'), '--out', join(dir, 'topk')]);
    const run = (variant: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'agent', 'vocab-memory-child.ts'), join(dir, variant), '4096', String(vocabSteps), '16'], { cwd: REPO_ROOT, encoding: 'utf8' });
      const o = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; message?: string; cells: number; seconds: number; forwardPasses: number; maxRssMiB: number; batch: number };
      if (!o.ok) throw new Error(`${variant}: ${o.message}`);
      return o;
    };
    const full = run('full');
    const topk = run('topk');
    const cps = (o: typeof full) => o.cells / o.seconds;
    console.log(`\nV = 151,936 (synthetic, hidden 8, gen_length 16, ${vocabSteps} steps x 16 positions, max batch 16, budget 4096 MiB, 1 thread, CPU):\n`);
    console.log('| graph outputs | cells | forward passes | seconds | cells/s | peak RSS MiB |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    console.log(`| full logits [B, L, 151936] | ${full.cells} | ${full.forwardPasses} | ${full.seconds.toFixed(2)} | ${cps(full).toFixed(2)} | ${full.maxRssMiB.toFixed(0)} |`);
    console.log(`| fused top-64 [B, L, 64] | ${topk.cells} | ${topk.forwardPasses} | ${topk.seconds.toFixed(2)} | ${cps(topk).toFixed(2)} | ${topk.maxRssMiB.toFixed(0)} |`);
    console.log(`\ntop-k / full at V = 151,936: cells/s x${(cps(topk) / cps(full)).toFixed(2)}, peak RSS x${(topk.maxRssMiB / full.maxRssMiB).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
