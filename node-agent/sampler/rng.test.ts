import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { h32, uniform } from './rng.ts';

describe('the counter-based RNG', () => {
  it('hashes like the reference implementation (values computed by models/reference/rng.py)', () => {
    // python3 -c "from models.reference.rng import h32; print([h32(0), h32(1), h32(0xFFFFFFFF), h32(123456789)])"
    assert.deepEqual([h32(0), h32(1), h32(0xffffffff), h32(123456789)], REFERENCE_H32);
  });

  it('draws the reference uniforms for (seed, step, position, stream)', () => {
    for (const [args, expected] of REFERENCE_UNIFORM) assert.equal(uniform(...args), expected, JSON.stringify(args));
  });

  it('is a pure function of its key and stays inside (0, 1)', () => {
    const a = uniform(7, 3, 11, 5);
    assert.equal(uniform(7, 3, 11, 5), a);
    assert.notEqual(uniform(7, 3, 12, 5), a);
    for (let i = 0; i < 1000; i++) {
      const u = uniform(i, i * 7, i * 13, i % 17);
      assert.ok(u > 0 && u < 1);
    }
  });
});

// Filled from the Python reference (see the first test's comment); numbers, not logic.
const REFERENCE_H32 = [0, 1753845952, 1734902346, 2834422664];
const REFERENCE_UNIFORM: [[number, number, number, number], number][] = [
  [[0, 0, 0, 0], 0.030690779838274118],
  [[1, 2, 3, 4], 0.5819972108796536],
  [[4294967295, 39, 49, 17], 0.9448551636706044],
  [[12345, 7, 20, 4294967295], 0.21014861763450393],
  [[99, 0, 10, 4294967294], 0.2931868108107802],
];
