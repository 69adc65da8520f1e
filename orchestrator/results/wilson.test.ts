import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { wilson } from './wilson.ts';

describe('wilson', () => {
  it('matches hand-computed 95 % intervals', () => {
    const w = wilson(5, 8);
    assert.equal(w.rate, 0.625);
    assert.ok(Math.abs(w.low! - 0.305742) < 1e-6 && Math.abs(w.high! - 0.863156) < 1e-6, JSON.stringify(w));
    const z = wilson(0, 3);
    assert.equal(z.low, 0);
    assert.ok(Math.abs(z.high! - 0.561497) < 1e-6);
    assert.equal(wilson(3, 3).high, 1);
  });

  it('has no interval without trials and refuses impossible counts', () => {
    assert.deepEqual(wilson(0, 0), { k: 0, n: 0, rate: null, low: null, high: null });
    assert.throws(() => wilson(4, 3), RangeError);
  });
});
