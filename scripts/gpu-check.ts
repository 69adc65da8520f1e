// scripts/gpu-check: on a machine with a GPU, runs the model organisms on every GPU execution
// provider onnxruntime-node can load here (cuda, webgpu) and on the CPU, checks that the clean
// trajectories and every cell's answer agree, and prints forward passes/s and cells/s side by
// side. Where no GPU provider can be loaded it says so plainly (naming what is missing) and
// prints the CPU figures alone. Exit 0 unless a provider's answers disagree with the CPU (1),
// or --require-gpu is given and no GPU provider loaded (3). docs/gpu.md.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import type { RunGroupEvent } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runForked } from '../node-agent/engine/index.ts';
import type { Device, OnnxModel } from '../node-agent/model/onnx-model.ts';
import { isAgentError } from '../common/agent-errors.ts';
import { resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '8' },
    models: { type: 'string', default: 'arith-cot,word-problems' },
    'device-id': { type: 'string', default: '0' },
    'max-batch': { type: 'string', default: '64' },
    threads: { type: 'string', default: '0' },
    'require-gpu': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: scripts/gpu-check [--prompts N (8)] [--models a,b (arith-cot,word-problems)] [--device-id N (0)] [--max-batch N (64)] [--threads N] [--require-gpu]');
  process.exit(0);
}
const modelsDir = resolvePaths(process.env).modelsDir;
const nPrompts = Number(values.prompts);
const deviceId = Number(values['device-id']);
const maxBatch = Number(values['max-batch']);
const never = new AbortController().signal;

interface Run { passes: number; rows: number; cells: number; seconds: number; outcomes: string[] }

/** The golden prompts of `name` with a grid of replace:random cells (4 steps x every 2nd generated position). */
function requestsFor(name: string): RunGroupRequest[] {
  const lines = readFileSync(join(modelsDir, name, 'golden.jsonl'), 'utf8').trim().split('\n').slice(0, nPrompts)
    .map((l) => JSON.parse(l) as { prompt_ids: number[]; seed: number; block_length: number; steps: number; gen_length: number; gold: string });
  return lines.map((l) => {
    const interventions = [];
    for (let k = 0; k < 4; k++) {
      const step = Math.floor((k * l.steps) / 4);
      for (let p = 0; p < l.gen_length; p += 2) interventions.push({ key: `${step}.${p}`, kind: InterventionKind.REPLACE, variant: ReplaceVariant.RANDOM_TOKEN, step, position: p });
    }
    return RunGroupRequest.fromPartial({ model: name, promptIds: l.prompt_ids, seed: l.seed, goldAnswer: l.gold, sampler: { blockLength: l.block_length }, interventions });
  });
}

async function runOn(device: Device, name: string, reqs: RunGroupRequest[]): Promise<Run | string> {
  let engine;
  try {
    engine = await createOnnxEngine({ modelsDir: join(modelsDir, name), device, deviceId, maxBatch, intraOpThreads: Number(values.threads), log: silentLogger });
  } catch (err) {
    if (isAgentError(err) && err.code === 'DEVICE_UNAVAILABLE') return err.message;
    throw err;
  }
  const base = engine.loaded.get(name)!;
  const run: Run = { passes: 0, rows: 0, cells: 0, seconds: 0, outcomes: [] };
  const model: OnnxModel = { ...base, forward: (t, rows, len) => (run.passes++, run.rows += rows, base.forward(t, rows, len)) };
  const models = new Map([[name, model]]);
  await runForked(prepareGroup(models, reqs[0]!, maxBatch), { signal: never, emit: () => {} }); // warm-up (kernels, allocator)
  Object.assign(run, { passes: 0, rows: 0 });
  const t0 = performance.now();
  for (const req of reqs) {
    const emit = (e: RunGroupEvent) => {
      if (e.event?.$case === 'trajectory') run.outcomes.push(`clean ${e.event.value.tokens.join(' ')} -> ${e.event.value.answer ?? '-'}`);
      if (e.event?.$case === 'result') {
        run.cells++;
        run.outcomes.push(`${e.event.value.key} -> ${e.event.value.answer ?? '-'}`);
      }
    };
    await runForked(prepareGroup(models, req, maxBatch), { signal: never, emit });
  }
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

let disagree = false;
let gpus = 0;
const rows: string[] = [];
const missing = new Map<string, string>();
for (const name of values.models!.split(',')) {
  const reqs = requestsFor(name);
  const cpu = await runOn('cpu', name, reqs);
  if (typeof cpu === 'string') throw new Error(cpu);
  rows.push(`| ${name} | cpu | ${cpu.passes} | ${(cpu.passes / cpu.seconds).toFixed(1)} | ${cpu.cells} | ${(cpu.cells / cpu.seconds).toFixed(1)} | 1.00 | (reference) |`);
  for (const device of ['cuda', 'webgpu'] as const) {
    const r = await runOn(device, name, reqs);
    if (typeof r === 'string') {
      missing.set(device, r);
      continue;
    }
    gpus++;
    const diff = r.outcomes.filter((o, i) => o !== cpu.outcomes[i]).length;
    if (diff > 0) disagree = true;
    rows.push(`| ${name} | ${device}${device === 'cuda' ? `:${deviceId}` : ''} | ${r.passes} | ${(r.passes / r.seconds).toFixed(1)} | ${r.cells} | ${(r.cells / r.seconds).toFixed(1)} | ${(cpu.seconds / r.seconds).toFixed(2)} | ${diff === 0 ? 'all agree' : `${diff} of ${r.outcomes.length} differ`} |`);
  }
}
console.log(`gpu-check: ${nPrompts} golden prompts per model, 4 steps x every 2nd generated position of replace:random cells; max batch ${maxBatch}`);
if (gpus === 0) console.log(`NO GPU PROVIDER IS AVAILABLE on this machine: only the CPU was measured.`);
for (const [device, why] of missing) console.log(`  ${device}: ${why}`);
console.log('\n| model | provider | forward passes | passes/s | cells | cells/s | speed-up vs cpu | answers vs cpu |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(r);
process.exitCode = disagree ? 1 : values['require-gpu'] && gpus === 0 ? 3 : 0;
