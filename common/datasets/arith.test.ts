import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arithProblems, formatPrompt } from './arith.ts';

describe('the arithmetic dataset', () => {
  it("fills the model card's prompt format, zero padding included", () => {
    assert.equal(formatPrompt('{a}+{b}=', 47, 1285), '47+1285=');
    assert.equal(formatPrompt('{a:04d}+{b:04d}=', 47, 1285), '0047+1285=');
  });

  it('generates the same 2-to-4-digit problems for the same seed', () => {
    const one = arithProblems(7, 50);
    assert.deepEqual(arithProblems(7, 50), one);
    assert.notDeepEqual(arithProblems(8, 50), one);
    for (const p of one) {
      assert.ok(p.a >= 10 && p.a <= 9999 && p.b >= 10 && p.b <= 9999);
      assert.equal(p.gold, String(p.a + p.b));
    }
  });

  it('refuses a prompt format it cannot fill', () => {
    assert.throws(() => arithProblems(1, 1, '{x}+{b}='), /unsupported prompt_format/);
  });
});
