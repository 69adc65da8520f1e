// npm run bench:skip-rules — what the exact skip/early-stop rules save, per answer
// rule, on the same model and cells (README "Cell outcomes"):
//   full:    every branch run to the end (disable_skip; no-op corruptions are still free)
//   legacy:  the card's anchored rule (skip/stop once the clean answer positions are committed)
//   free:    the card read by a free-text rule (--regex; skip/stop once the response is settled)
// Prints branch-steps (forward-pass rows) of each and checks that every outcome equals the full run's.
// Grid per prompt: remask and replace:random at every position, every --every-th step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InterventionResult } from '../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runForked } from '../node-agent/engine/index.ts';
import { parseCard } from '../common/model/card.ts';
import type { OnnxModel } from '../node-agent/model/onnx-model.ts';
import { resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { benchArgs } from './args.ts';

const values = benchArgs('bench:skip-rules', [
  'What the exact skip/early-stop rules save, per answer rule, on the same model and cells;',
  "checks that every outcome equals the full run's.",
], {
  models: { type: 'string', default: 'arith-cot,arith-cot-decoupled', help: 'models, comma-separated' },
  regex: { type: 'string', default: '\\|(?<answer>\\d{5})', help: 'the free-text answer rule' },
  prompts: { type: 'string', default: '1', help: 'golden prompts per model', number: { min: 1 } },
  every: { type: 'string', default: '4', help: 'every Nth step', number: { min: 1 } },
  threads: { type: 'string', default: '2', help: 'onnxruntime intra-op threads', number: { min: 0, max: 1024 } },
});
const modelsDir = resolvePaths(process.env).modelsDir;
const engine = await createOnnxEngine({ modelsDir, intraOpThreads: Number(values.threads), log: silentLogger });
const never = new AbortController().signal;

/** `base` read by the free-text rule `regex` (numeric answers), under the name `name`. */
function freeText(base: OnnxModel, name: string, regex: string): OnnxModel {
  const json = JSON.parse(readFileSync(join(base.dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  delete json['spans'];
  return { ...base, card: parseCard({ ...json, name, answer: { regex, normalize: 'numeric' } }, `${base.dir} with answer.regex ${regex}`) };
}

async function run(models: Map<string, OnnxModel>, req: RunGroupRequest): Promise<Map<string, InterventionResult>> {
  const out = new Map<string, InterventionResult>();
  await runForked(prepareGroup(models, req, 64), { signal: never, emit: (e) => e.event?.$case === 'result' && out.set(e.event.value.key, e.event.value) });
  return out;
}

const steps = (rs: Map<string, InterventionResult>) => [...rs.values()].reduce((n, r) => n + r.computeSteps, 0);
const count = (rs: Map<string, InterventionResult>, f: (r: InterventionResult) => boolean) => [...rs.values()].filter(f).length;

for (const name of values.models!.split(',')) {
  const base = engine.loaded.get(name);
  if (!base) throw new Error(`model '${name}' is not under ${modelsDir}`);
  const free = freeText(base, `${name}/free`, values.regex!);
  const models = new Map([[name, base], [free.card.name, free]]);
  const { steps: T, gen_length: G } = base.card.defaults;
  const lines = readFileSync(join(base.dir, 'golden.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt_ids: number[]; gold: string; block_length: number })
    .filter((l) => l.block_length === base.card.defaults.block_length).slice(0, Number(values.prompts));
  const total = { cells: 0, full: 0, legacy: 0, free: 0, legacySkipped: 0, freeSkipped: 0, legacyStopped: 0, freeStopped: 0 };
  for (const line of lines) {
    const interventions: Partial<RunGroupRequest['interventions'][number]>[] = [];
    for (let t = 0; t < T; t += Number(values.every)) {
      for (let p = 0; p < G; p++) {
        interventions.push({ key: `m${t}.${p}`, kind: InterventionKind.REMASK, step: t, position: p });
        interventions.push({ key: `r${t}.${p}`, kind: InterventionKind.REPLACE, variant: ReplaceVariant.RANDOM_TOKEN, step: t, position: p });
      }
    }
    const req = (model: string, disableSkip: boolean) => RunGroupRequest.fromPartial({ model, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 5, interventions, disableSkip });
    const fullLegacy = await run(models, req(name, true));
    const fullFree = await run(models, req(free.card.name, true));
    const legacy = await run(models, req(name, false));
    const freeRs = await run(models, req(free.card.name, false));
    for (const [key, r] of legacy) if (r.answer !== fullLegacy.get(key)!.answer) throw new Error(`${name} ${key}: legacy skip changed the answer`);
    for (const [key, r] of freeRs) if (r.answer !== fullFree.get(key)!.answer || r.outcome !== fullFree.get(key)!.outcome) throw new Error(`${name} ${key}: free-text skip changed the outcome`);
    total.cells += interventions.length;
    total.full += steps(fullLegacy);
    total.legacy += steps(legacy);
    total.free += steps(freeRs);
    total.legacySkipped += count(legacy, (r) => r.skipped);
    total.freeSkipped += count(freeRs, (r) => r.skipped);
    total.legacyStopped += count(legacy, (r) => r.stoppedEarly);
    total.freeStopped += count(freeRs, (r) => r.stoppedEarly);
  }
  const pct = (n: number) => `${((100 * n) / total.full).toFixed(1)}%`;
  console.log(`${name}: ${lines.length} prompts, ${total.cells} cells; branch-steps full ${total.full}, ` +
    `legacy rule ${total.legacy} (${pct(total.legacy)}; ${total.legacySkipped} skipped, ${total.legacyStopped} stopped early), ` +
    `free-text rule ${total.free} (${pct(total.free)}; ${total.freeSkipped} skipped, ${total.freeStopped} stopped early); every outcome equal to the full run's`);
}
