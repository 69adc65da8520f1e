// npm run bench:paraphrase — held-out accuracy of the arithmetic diffusion organisms with and
// without paraphrase-remask sampling (docs/paraphrase.md "Measuring"): the clean run of N
// held-out arithmetic problems (operand pairs the split holds out: models/task.py is_heldout, the
// same hash here; drawn from the seeded arith stream), once plain and once per paraphrase setting,
// per organism, split by problems with and without a carry, each with its Wilson 95 % interval.
// Not a test: a researcher-facing figure.
//   npm run bench:paraphrase -- --models arith-cot,arith-cot-faithful,arith-cot-stego --prompts 200 \
//     --settings "every=2,remask=0.3,paraphraser=arith-canonical;every=4,remask=0.25,paraphraser=arith-canonical"
import { RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runClean } from '../node-agent/engine/index.ts';
import { parseParaphraseFlag, paraphraseToProto } from '../common/paraphrase/settings.ts';
import { arithStream } from '../common/datasets/arith.ts';
import { resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { wilson } from '../orchestrator/results/wilson.ts';
import { benchArgs } from './args.ts';

const values = benchArgs('bench:paraphrase', [
  'Held-out accuracy of the arithmetic organisms with and without paraphrase-remask sampling',
  '(docs/paraphrase.md "Measuring"), split by carry, each with its Wilson 95 % interval.',
], {
  model: { type: 'string', help: 'one model (instead of --models)' },
  models: { type: 'string', default: 'arith-cot,arith-cot-faithful,arith-cot-stego', help: 'models, comma-separated' },
  prompts: { type: 'string', default: '200', help: 'held-out problems', number: { min: 1 } },
  settings: { type: 'string', default: 'every=2,remask=0.3,paraphraser=arith-canonical;every=4,remask=0.25,paraphraser=arith-canonical', help: 'paraphrase settings, ;-separated' },
  seed: { type: 'string', default: '0', help: 'sampler seed', number: { min: 0, max: 2_147_483_647 } },
  json: { type: 'boolean', default: false, help: 'print JSON' },
});

/** models/task.py is_heldout: (a, b) is held out iff this hash % 50 == 0. */
function isHeldout(a: number, b: number): boolean {
  let x = Number((BigInt(a) * 1000003n + BigInt(b) * 7919n + 0x9e3779b9n) & 0xffffffffn);
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x % 50 === 0;
}

/** Whether the column addition of a + b (4 columns) carries at least once. */
function hasCarry(a: number, b: number): boolean {
  let c = 0;
  for (let i = 0; i < 4; i++) {
    const s = (Math.floor(a / 10 ** i) % 10) + (Math.floor(b / 10 ** i) % 10) + c;
    c = s >= 10 ? 1 : 0;
    if (c) return true;
  }
  return false;
}

const n = Number(values.prompts);
const problems: { prompt: string; gold: string; a: number; b: number }[] = [];
for (const p of arithStream(1234, Infinity, '{a:04d}+{b:04d}=')) {
  if (isHeldout(p.a, p.b)) problems.push(p);
  if (problems.length === n) break;
}
const models = values.model ? [values.model] : values.models!.split(',').map((m) => m.trim()).filter(Boolean);
const engine = await createOnnxEngine({ modelsDir: resolvePaths(process.env).modelsDir, intraOpThreads: 1, log: silentLogger });
const never = new AbortController().signal;
const fmt = (k: number, m: number): string => {
  const w = wilson(k, m);
  return m ? `${k}/${m} = ${(100 * w.rate!).toFixed(1)} % [${(100 * w.low!).toFixed(1)}, ${(100 * w.high!).toFixed(1)}]` : 'n/a';
};
const out: object[] = [];
const lines: string[] = [];
for (const model of models) {
  for (const setting of ['off', ...values.settings!.split(';')]) {
    const paraphrase = setting === 'off' ? undefined : paraphraseToProto(parseParaphraseFlag(setting));
    const tally = { carry: [0, 0], noCarry: [0, 0] };
    let events = 0;
    let changed = 0;
    const t0 = performance.now();
    for (const p of problems) {
      const req = RunGroupRequest.fromPartial({ model, prompt: p.prompt, goldAnswer: p.gold, seed: Number(values.seed), sampler: { ...(paraphrase ? { paraphrase } : {}) } });
      const r = await runClean(prepareGroup(engine.loaded, req, 1), never);
      const t = hasCarry(p.a, p.b) ? tally.carry : tally.noCarry;
      t[1]!++;
      if (r.message.correct) t[0]!++;
      events += r.message.paraphraseEvents.length;
      changed += r.message.paraphraseEvents.filter((e) => e.before !== e.after).length;
    }
    const all = [tally.carry[0]! + tally.noCarry[0]!, tally.carry[1]! + tally.noCarry[1]!] as const;
    const row = { model, setting, all, carry: tally.carry, noCarry: tally.noCarry, events, changed, wallS: Math.round((performance.now() - t0) / 1000) };
    out.push(row);
    lines.push(`| ${model} | ${setting} | ${fmt(all[0], all[1])} | ${fmt(tally.carry[0]!, tally.carry[1]!)} | ${fmt(tally.noCarry[0]!, tally.noCarry[1]!)} | ${events} | ${changed} | ${row.wallS} s |`);
    console.error(lines.at(-1));
  }
}
if (values.json) {
  console.log(JSON.stringify({ prompts: problems.length, seed: Number(values.seed), rows: out }));
} else {
  console.log(`${problems.length} held-out problems (models/task.py split, arith stream seed 1234), sampler seed ${values.seed}, card defaults otherwise`);
  console.log('| model | paraphrase-remask | accuracy [95 % Wilson] | with ≥ 1 carry | without a carry | events | events that changed the text | wall |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of lines) console.log(l);
}
