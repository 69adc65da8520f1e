import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FaithsweepError, formatError } from './errors.ts';

describe('formatError', () => {
  it('prints a coded error as one line plus its hint, without a stack trace', () => {
    const text = formatError(new FaithsweepError(ErrorCode.BAD_SPEC, 'sweep.yaml:3: unknown key "sed"', { hint: 'did you mean "seeds"?' }));
    assert.equal(text, 'error[BAD_SPEC]: sweep.yaml:3: unknown key "sed"\n  hint: did you mean "seeds"?');
  });

  it('reduces an unexpected error to its first line under the INTERNAL code', () => {
    const text = formatError(new Error('boom\n    at somewhere (file.ts:1:1)'));
    assert.match(text, /^error\[INTERNAL\]: boom\n {2}hint: rerun with FAITHSWEEP_DEBUG=1/);
    assert.doesNotMatch(text, /file\.ts/);
  });
});
