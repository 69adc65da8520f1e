// A whole sweep on a model with an 8B model's vocabulary (docs/gpu.md "Vocabulary-sized memory"): a synthetic model with
// V = 151,936 and hidden size 8 (models/export/synthetic_vocab.py, weights as external data)
// runs through fused top-k outputs on an agent with a 1024 MiB memory budget, on real Temporal,
// NATS, PostgreSQL and worker, to exactly its plan; an agent given the same graph with full
// logits under the same budget refuses to start with MEMORY_BUDGET. The agents' peak RSS is
// printed (issue note).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsPythonJson } from '../helpers/models-python.ts';
import type { Cluster } from './cluster.ts';
import { compareWithPlan, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

/** A field of /proc/PID/status in MiB: VmHWM (peak resident set) or VmRSS (current). */
function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no ${field} for pid ${pid}`);
  return Number(m[1]) / 1024;
}

describe('a sweep at V = 151,936 through fused top-k (real Temporal, NATS, PostgreSQL, agent, worker)', { timeout: 900_000 }, () => {
  let dir: string;
  let c: Cluster;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-vocab-sweep-'));
    modelsPythonJson('models.export.synthetic_vocab', ['--out', join(dir, 'full'), '--topk', '0', '--external-data', '--max-seq-len', '512'], undefined, 'onnx');
    modelsPythonJson('models.export.add_topk_outputs', ['--model', join(dir, 'full'), '--out', join(dir, 'topk')], undefined, 'onnx');
    c = await startCluster('vocab-sweep');
  });
  after(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the sweep within a 1024 MiB budget through top-k; full logits under that budget are refused at start', async (t) => {
    const refused = c.startAgent('vocab-full', join(dir, 'full'), ['--memory-budget', '1024']);
    await assert.rejects(refused, /MEMORY_BUDGET.*full logits \(V = 151936\)/s);
    const agent = await c.startAgent('vocab-topk', join(dir, 'topk'), ['--memory-budget', '1024', '--max-batch', '16']);
    // The agent's peak before any forward pass: node, onnxruntime, the weights.
    const loadedMiB = statusMiB(agent.child.pid!, 'VmHWM');
    await c.startWorker();
    const spec = c.writeSpec('vocab', [
      'name: vocab',
      `models: [{path: ${join(dir, 'topk')}, sampler: {gen_length: 16, steps: 16, block_length: 16}}]`,
      // Small: a forward pass at V = 151,936 takes about a second on this machine's CPU.
      'dataset: {generator: arith, seed: 7, count: 2}',
      'grid:',
      '  positions: [0, 5, 10, 15]',
      '  steps: [0, 8]',
      '  kinds: [replace, probe]',
      'options: {window: 2}',
      '',
    ].join('\n'));
    const r = await c.cli(['launch', spec, '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
    try {
      await until('the sweep to complete', async () => (await sweepState(c, 'vocab')).status === 'completed', 600_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nunfinished:\n${await unfinishedUnits(c, 'vocab')}\nworker log:\n${c.workerLog().slice(-3000)}\nagent log:\n${agent.stderr().slice(-3000)}`, { cause: err });
    }
    const cmp = await compareWithPlan(c, 'vocab');
    assert.equal(cmp.planned, 2 * (4 * 2 + 2));
    assert.deepEqual({ missing: cmp.missing.length, extra: cmp.extra.length, rows: cmp.rows }, { missing: 0, extra: 0, rows: cmp.planned });
    assert.equal(cmp.unitsWithoutTrajectory, 0);
    const peakMiB = statusMiB(agent.child.pid!, 'VmHWM');
    const line = `agent peak RSS ${peakMiB.toFixed(0)} MiB (${loadedMiB.toFixed(0)} MiB loaded, +${(peakMiB - loadedMiB).toFixed(0)} MiB running; fused top-64, V = 151,936, budget 1024 MiB, max batch 16), ${cmp.rows} cells`;
    t.diagnostic(line);
    process.stderr.write(`vocab sweep: ${line}\n`);
    // What the forward passes added stays within the budget.
    assert.ok(peakMiB - loadedMiB <= 1024, line);
  });
});
