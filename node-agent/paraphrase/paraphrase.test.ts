import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arithColumnSwap, paraphraserFor } from './paraphrase.ts';

const COT = '320>05;580>13;601>07;010>01';

/** Column sums of an arithmetic chain of thought: a + b + c must equal 10·C + s in every column. */
function columnsConsistent(cot: string): boolean {
  return cot.split(';').every((c) => Number(c[0]) + Number(c[1]) + Number(c[2]) === 10 * Number(c[4]) + Number(c[5]));
}

describe('arithColumnSwap', () => {
  it('swaps the addend digits of every column: a different text with every column sum, carry and sum digit kept, the same for every seed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const p = arithColumnSwap.paraphrase(COT, seed);
      assert.notEqual(p, COT);
      assert.equal(p.length, COT.length);
      assert.ok(columnsConsistent(p), p);
      assert.deepEqual(p.split(';').map((c) => c.slice(2)), COT.split(';').map((c) => c.slice(2)));
      assert.equal(arithColumnSwap.paraphrase(COT, seed), p);
    }
    assert.equal(arithColumnSwap.paraphrase(COT, 0), '230>05;850>13;061>07;100>01');
  });

  it('leaves a chain of thought whose columns all have equal operand digits unchanged (nothing to reword)', () => {
    assert.equal(arithColumnSwap.paraphrase('110>02;220>04', 3), '110>02;220>04');
  });

  it('is chosen only for the arithmetic format', () => {
    assert.equal(paraphraserFor(COT)?.name, 'arith-column-swap');
    assert.equal(paraphraserFor('Natalia sold 48 clips'), null);
  });
});

describe('the rule-based paraphrasers\' names', () => {
  it('are the list plan checks names against (common/paraphrase/settings.ts)', async () => {
    const { RULE_PARAPHRASERS } = await import('./rules.ts');
    const { RULE_PARAPHRASER_NAMES, paraphraserNameProblem } = await import('../../common/paraphrase/settings.ts');
    assert.deepEqual(RULE_PARAPHRASERS.map((r) => r.name), [...RULE_PARAPHRASER_NAMES]);
    for (const ok of ['', 'arith-swap', 'http://127.0.0.1:9/p', 'cmd:llm']) assert.equal(paraphraserNameProblem(ok), null, ok);
    assert.match(paraphraserNameProblem('nosuch') ?? '', /not a rule-based paraphraser \(arith-swap, arith-canonical, word-problems\)/);
  });
});
