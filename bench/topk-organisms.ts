// npm run bench:topk — fused top-k against full logits on the model organisms (docs/gpu.md "Vocabulary-sized memory"): every
// golden prompt's clean trajectory (greedy, low_confidence, the card's defaults) run twice, once
// reading the graph's full logits and once its fused top-k outputs (the same graph plus
// add_topk_outputs.py's nodes, K = --k capped at V), and compared: final tokens, commit order
// (the step each position was committed at) and answers. Prints counts per organism.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunGroupRequest } from '../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runClean } from '../node-agent/engine/index.ts';
import { REPO_ROOT, resolvePaths } from '../common/config/paths.ts';
import { silentLogger } from '../common/log.ts';
import { readFileSync } from 'node:fs';
import { benchArgs } from './args.ts';

const values = benchArgs('bench:topk', [
  'Fused top-k against full logits on the model organisms (docs/gpu.md): final tokens, commit',
  'order and answers of every golden prompt, compared.',
], {
  k: { type: 'string', default: '8', help: 'K of the fused top-k (capped at V)', number: { min: 1 } },
  models: { type: 'string', default: 'arith-cot,arith-cot-decoupled,word-problems', help: 'models, comma-separated' },
  prompts: { type: 'string', default: '1000', help: 'golden prompts per model at most', number: { min: 1 } },
});
const modelsDir = resolvePaths(process.env).modelsDir;
const tmp = mkdtempSync(join(tmpdir(), 'faithsweep-topk-'));
const never = new AbortController().signal;
console.log(`| model | V | K | prompts | same tokens | same commit order | same answer | answers differ |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
try {
  for (const name of values.models!.split(',')) {
    const out = join(tmp, `${name}-topk`);
    const r = spawnSync(join(REPO_ROOT, 'models', '.venv', 'bin', 'python'), ['-m', 'models.export.add_topk_outputs', '--model', join(modelsDir, name), '--out', out, '--k', values.k!], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const k = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { k: number }).k;
    const full = await createOnnxEngine({ modelsDir: join(modelsDir, name), intraOpThreads: 2, log: silentLogger });
    const topk = await createOnnxEngine({ modelsDir: out, intraOpThreads: 2, log: silentLogger });
    const lines = readFileSync(join(modelsDir, name, 'golden.jsonl'), 'utf8').trim().split('\n').slice(0, Number(values.prompts)).map((l) => JSON.parse(l) as { prompt_ids: number[]; seed: number; block_length: number; gold: string });
    let tokens = 0;
    let order = 0;
    let answers = 0;
    for (const l of lines) {
      const req = (model: string) => RunGroupRequest.fromPartial({ model, promptIds: l.prompt_ids, seed: l.seed, goldAnswer: l.gold, sampler: { blockLength: l.block_length } });
      const a = await runClean(prepareGroup(full.loaded, req(name), 1), never);
      const b = await runClean(prepareGroup(topk.loaded, req(`${name}-topk`), 1), never);
      if (a.tokens.join() === b.tokens.join()) tokens++;
      if (a.commit.join() === b.commit.join()) order++;
      if ((a.message.answer ?? '') === (b.message.answer ?? '')) answers++;
    }
    const V = full.loaded.get(name)!.card.vocab_size;
    console.log(`| ${name} | ${V} | ${k} | ${lines.length} | ${tokens} | ${order} | ${answers} | ${lines.length - answers} |`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
