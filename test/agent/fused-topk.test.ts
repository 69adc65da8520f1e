// A graph with fused top-k outputs (test/fixtures/models/arith-cot-topk, made from arith-cot by
// models/export/add_topk_outputs.py) is read through those outputs, not full logits, and
// gives the final tokens of the model it was made from. The commit ORDER may differ: these
// models are so confident that many candidates have probabilities within 1e-9 of each other
// (golden min_commit_margin), which float32 log-probabilities cannot separate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine, prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { silentLogger } from '../../common/log.ts';
import { goldenLines } from '../helpers/models.ts';

describe('fused top-k outputs', () => {
  it('are used when the graph has them and reproduce the golden trajectories', async () => {
    const engine = await createOnnxEngine({ modelsDir: join(REPO_ROOT, 'test', 'fixtures', 'models', 'arith-cot-topk'), intraOpThreads: 2, log: silentLogger });
    const model = engine.loaded.get('arith-cot-topk')!;
    assert.equal(model.fusedTopK, true);
    assert.equal(engine.models()[0]!.fusedTopk, true);
    const lines = goldenLines('arith-cot').filter((l) => l.block_length === 40);
    for (const line of lines) {
      const req = RunGroupRequest.fromPartial({ model: 'arith-cot-topk', promptIds: line.prompt_ids, seed: line.seed, sampler: { blockLength: line.block_length } });
      const clean = await runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
      assert.deepEqual([...clean.tokens], line.tokens, line.prompt);
      assert.equal(clean.message.text, line.text, line.prompt);
    }
  });
});
