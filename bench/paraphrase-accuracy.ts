// npm run bench:paraphrase — held-out accuracy of a diffusion organism with and without
// paraphrase-remask sampling (docs/paraphrase.md): the clean run of N held-out
// arithmetic problems (operand pairs the split holds out: models/task.py is_heldout, the same
// hash here; drawn from the seeded arith stream), once plain and once per paraphrase setting,
// each with its Wilson 95 % interval. Not a test: a researcher-facing figure.
//   npm run bench:paraphrase -- --model arith-cot --prompts 200 --settings "every=2,remask=0.3;every=4,remask=0.25"
import { parseArgs } from 'node:util';
import { RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runClean } from '../node-agent/engine/index.ts';
import { parseParaphraseFlag, paraphraseToProto } from '../common/paraphrase/settings.ts';
import { arithStream } from '../common/datasets/arith.ts';
import { resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { wilson } from '../orchestrator/results/wilson.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'arith-cot' },
    prompts: { type: 'string', default: '200' },
    settings: { type: 'string', default: 'every=2,remask=0.3;every=4,remask=0.25;every=2,remask=0.3,remask_by=low_confidence' },
    seed: { type: 'string', default: '0' },
  },
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

const n = Number(values.prompts);
const problems = [];
for (const p of arithStream(1234, Infinity, '{a:04d}+{b:04d}=')) {
  if (isHeldout(p.a, p.b)) problems.push(p);
  if (problems.length === n) break;
}
const engine = await createOnnxEngine({ modelsDir: resolvePaths(process.env).modelsDir, intraOpThreads: 1, log: silentLogger });
const never = new AbortController().signal;
const rows: string[] = [];
for (const setting of ['off', ...values.settings!.split(';')]) {
  const paraphrase = setting === 'off' ? undefined : paraphraseToProto(parseParaphraseFlag(setting));
  let correct = 0;
  let events = 0;
  let changed = 0;
  const t0 = performance.now();
  for (const p of problems) {
    const req = RunGroupRequest.fromPartial({ model: values.model!, prompt: p.prompt, goldAnswer: p.gold, seed: Number(values.seed), sampler: { ...(paraphrase ? { paraphrase } : {}) } });
    const r = await runClean(prepareGroup(engine.loaded, req, 1), never);
    if (r.message.correct) correct++;
    events += r.message.paraphraseEvents.length;
    changed += r.message.paraphraseEvents.filter((e) => e.before !== e.after).length;
  }
  const w = wilson(correct, problems.length);
  rows.push(`| ${setting} | ${correct}/${problems.length} | ${(100 * w.rate!).toFixed(1)} % [${(100 * w.low!).toFixed(1)}, ${(100 * w.high!).toFixed(1)}] | ${events} | ${changed} | ${((performance.now() - t0) / 1000).toFixed(0)} s |`);
  console.error(rows.at(-1));
}
console.log(`${values.model}, ${problems.length} held-out problems, seed ${values.seed}, card defaults otherwise`);
console.log('| paraphrase-remask | correct | accuracy [95 % Wilson] | events | events that changed the text | wall |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
