// Vocabulary-sized memory (docs/gpu.md, "Vocabulary-sized memory"): a synthetic model with
// V = 151,936 and hidden size 8
// (models/export/synthetic_vocab.py, weights in model.onnx.data as a > 2 GB export has them)
// runs a work unit through fused top-k outputs (added by add_topk_outputs.py, which carries the
// external data along) within a 1024 MiB memory budget; the same graph with full logits is refused
// at load with MEMORY_BUDGET; raised to 1536 MiB it runs, to the same tokens, at about twice the
// peak RSS. Each run is its own process (vocab-memory-child.ts), so peak RSS is its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { modelsPythonJson } from '../helpers/models-python.ts';

interface ChildResult { ok: boolean; code?: string; message?: string; cells?: number; requested?: number; batch?: number; fusedTopK?: boolean; width?: number; cleanTokens?: number[]; maxRssMiB: number }

function child(dir: string, budgetMiB: number): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'vocab-memory-child.ts'), dir, String(budgetMiB), '1', '16'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 900_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

describe('vocabulary-sized memory (V = 151,936)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-vocab-'));
    modelsPythonJson('models.export.synthetic_vocab', ['--out', join(dir, 'full'), '--topk', '0', '--external-data', '--max-seq-len', '512'], undefined, 'onnx');
    const added = modelsPythonJson<{ k: number; external_data: string[] }>('models.export.add_topk_outputs', ['--model', join(dir, 'full'), '--out', join(dir, 'topk')], undefined, 'onnx');
    assert.equal(added.k, 64);
    assert.deepEqual(added.external_data, ['model.onnx.data']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('add_topk_outputs carries the external data of a large export along', () => {
    assert.ok(existsSync(join(dir, 'topk', 'model.onnx.data')));
    assert.ok(readFileSync(join(dir, 'topk', 'model.onnx')).length < 4096, 'the graph file holds no weights');
    const card = JSON.parse(readFileSync(join(dir, 'topk', 'model.json'), 'utf8')) as { outputs: { name: string }[]; training: { export: { external_data: { file: string } } } };
    assert.deepEqual(card.outputs.map((o) => o.name), ['logits', 'topk_logprobs', 'topk_ids']);
    assert.equal(card.training.export.external_data.file, 'model.onnx.data');
  });

  it('runs through fused top-k within the budget, refuses full logits with MEMORY_BUDGET, and full logits cost more RSS', (t) => {
    const topk = child(join(dir, 'topk'), 1024);
    assert.ok(topk.ok, topk.message);
    assert.equal(topk.fusedTopK, true);
    assert.equal(topk.width, 64);
    assert.equal(topk.cells, topk.requested);
    assert.equal(topk.cells, 16);
    assert.ok(topk.batch! >= 1 && topk.batch! <= 16, `batch ${topk.batch}`);

    const refused = child(join(dir, 'full'), 1024);
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 'MEMORY_BUDGET');
    assert.match(refused.message!, /full logits \(V = 151936\) at max_seq_len 512 takes 1187 MiB .* more than --memory-budget 1024 MiB: re-export with fused top-k/);

    const full = child(join(dir, 'full'), 1536);
    assert.ok(full.ok, full.message);
    assert.equal(full.fusedTopK, false);
    assert.deepEqual(full.cleanTokens, topk.cleanTokens, 'greedy low_confidence is exact under top-k');
    assert.ok(full.maxRssMiB > topk.maxRssMiB, `full ${full.maxRssMiB} MiB vs top-k ${topk.maxRssMiB} MiB`);
    t.diagnostic(`peak RSS: fused top-k (budget 1024 MiB, batch ${topk.batch}) ${topk.maxRssMiB.toFixed(0)} MiB; full logits refused at 1024 MiB (${refused.maxRssMiB.toFixed(0)} MiB at refusal); full logits at 1536 MiB (batch ${full.batch}) ${full.maxRssMiB.toFixed(0)} MiB`);
  });
});
