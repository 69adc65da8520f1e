// Devices and the memory budget at the engine: --allow-cpu-fallback is the only way onto the CPU
// when the device cannot be loaded; the batch follows the budget.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { silentLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import { isAgentError } from '../../common/agent-errors.ts';
import { bytesPerPosition, hostBytesPerPosition, rowsWithinBudget } from './budget.ts';
import { createOnnxEngine } from './index.ts';

const ARITH = join(REPO_ROOT, 'models', 'arith-cot');

describe('devices and the memory budget', () => {
  it('refuses a CUDA device that cannot be loaded (device id 1023 exists nowhere) with DEVICE_UNAVAILABLE', async () => {
    await assert.rejects(createOnnxEngine({ modelsDir: ARITH, device: 'cuda', deviceId: 1023, intraOpThreads: 1, log: silentLogger }), (err) => isAgentError(err) && err.code === 'DEVICE_UNAVAILABLE' && /^--device cuda/.test(err.message));
  });

  it('with allowCpuFallback, warns and runs on the CPU', async () => {
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
    const engine = await createOnnxEngine({ modelsDir: ARITH, device: 'cuda', deviceId: 1023, allowCpuFallback: true, intraOpThreads: 1, log });
    assert.equal(engine.describeDevice().executionProvider, 'cpu');
    assert.equal(engine.describeDevice().requestedProvider, 'cuda');
    assert.match(warnings.join('\n'), /execution provider 'cuda' is not available; using the CPU \(--allow-cpu-fallback\)/);
  });

  it('sizes the batch from the budget, capped by maxBatch', async () => {
    // arith-cot: V = 18, full logits; on the CPU provider a position costs 18 x 4 (output) + 3 x 18 x 4 (inside the graph).
    assert.equal(hostBytesPerPosition(false, 18, 18, true), 288);
    assert.equal(hostBytesPerPosition(true, 64, 151_936, false), 1024);
    assert.equal(hostBytesPerPosition(true, 64, 151_936, true), 1024 + 3 * 151_936 * 4);
    assert.equal(bytesPerPosition(true, 64), 1024);
    assert.equal(rowsWithinBudget(288 * 50 * 10, 50, 288), 10);
    const small = await createOnnxEngine({ modelsDir: ARITH, intraOpThreads: 1, memoryBudgetBytes: 288 * 50 * 10, log: silentLogger });
    const m = small.loaded.get('arith-cot')!;
    assert.equal(small.batchFor(m, 50), 10);
    assert.equal(small.batchFor(m, 25), 20);
    const big = await createOnnxEngine({ modelsDir: ARITH, intraOpThreads: 1, maxBatch: 32, log: silentLogger });
    assert.equal(big.batchFor(big.loaded.get('arith-cot')!, 50), 32);
    await assert.rejects(createOnnxEngine({ modelsDir: ARITH, intraOpThreads: 1, memoryBudgetBytes: 288 * 49, log: silentLogger }), (err) => isAgentError(err) && err.code === 'MEMORY_BUDGET' && /max_seq_len 50/.test(err.message));
  });
});
