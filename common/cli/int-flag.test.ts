import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIntFlag } from './int-flag.ts';
import { FaithsweepError } from '../errors.ts';

function refusal(raw: string, range = { min: 0, max: 2 ** 32 - 1 }): FaithsweepError {
  try {
    parseIntFlag('seed', raw, range);
  } catch (err) {
    assert.ok(err instanceof FaithsweepError);
    return err;
  }
  assert.fail(`--seed ${raw} was accepted`);
}

describe('parseIntFlag', () => {
  it('reads plain decimal digits, and undefined when the flag is absent', () => {
    assert.equal(parseIntFlag('seed', '1000', { min: 0 }), 1000);
    assert.equal(parseIntFlag('seed', '0', { min: 0, max: 5 }), 0);
    assert.equal(parseIntFlag('seed', '007', { min: 0 }), 7);
    assert.equal(parseIntFlag('seed', undefined, { min: 0 }), undefined);
  });

  it('refuses 1e3 although Number() reads it as 1000, and says how to write it', () => {
    const e = refusal('1e3');
    assert.equal(e.code, 'BAD_ARGS');
    assert.equal(e.message, "--seed must be an integer in 0..4294967295, written in plain decimal digits (got '1e3')");
    assert.equal(e.hint, 'write --seed 1000');
  });

  it('refuses the other spellings Number() accepts: hex, binary, a point, a plus sign, spaces, empty', () => {
    for (const raw of ['0x10', '0b11', '1.0', '10.', '+5', ' 5', '5 ', '', '1_000', 'Infinity']) {
      const e = refusal(raw);
      assert.match(e.message, new RegExp(`^--seed must be .*written in plain decimal digits \\(got '${raw.replace(/[.+]/g, '\\$&')}'\\)$`), JSON.stringify(raw));
    }
    assert.equal(refusal('1.5').hint, 'write digits only: no exponent, sign, decimal point or separators');
  });

  it('names the range for a decimal value outside it, with the caller\'s wording and hint', () => {
    assert.equal(refusal('-1').message, "--seed must be an integer in 0..4294967295 (got '-1')");
    assert.equal(refusal('4294967296').message, "--seed must be an integer in 0..4294967295 (got '4294967296')");
    assert.equal(refusal('99999999999999999999').message, "--seed must be an integer in 0..4294967295 (got '99999999999999999999')");
    const e = refusal('0', { min: 1, what: 'a positive integer', hint: 'leave it out' } as never);
    assert.deepEqual([e.message, e.hint], ["--seed must be a positive integer (got '0')", 'leave it out']);
    assert.equal(refusal('1e30', { min: 0 } as never).hint, 'write digits only: no exponent, sign, decimal point or separators');
  });
});
