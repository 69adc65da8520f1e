import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSums, clusteredInterval, wilson } from './wilson.ts';
import type { Cluster } from './wilson.ts';

/** A seeded generator (Park–Miller minimal standard), so the simulations below are reproducible. */
function seeded(seed: number): () => number {
  let s = seed % 2147483647;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

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

describe('clusteredInterval (prompt-clustered)', () => {
  it('is wider than the cell-level Wilson interval when the cells of a prompt agree', () => {
    // 10 prompts × 10 cells; every cell of prompts 0–3 flips, none of the others: 40 of 100.
    const agree: Cluster[] = Array.from({ length: 10 }, (_, i) => ({ k: i < 4 ? 10 : 0, n: 10 }));
    const c = clusteredInterval(agree);
    const w = wilson(40, 100);
    assert.equal(c.rate, 0.4);
    assert.equal(c.prompts, 10);
    // Residuals k_i − p·n_i = ±6, ∓4: Σ² = 4·36 + 6·16 = 240; V = 10/9 · 240 / 100² = 0.02667;
    // n_eff = 0.24 / V = 9: the 100 cells carry the information of 9 independent ones.
    assert.ok(Math.abs(c.nEff! - 9) < 1e-9, String(c.nEff));
    assert.ok(c.high! - c.low! > 2.5 * (w.high! - w.low!), `clustered ${c.low}–${c.high} vs Wilson ${w.low}–${w.high}`);
    assert.ok(Math.abs(c.low! - wilson(3.6, 9).low!) < 1e-12 && Math.abs(c.high! - wilson(3.6, 9).high!) < 1e-12);
  });

  it('equals the cell-level Wilson interval in expectation when cells are independent (seeded simulation)', () => {
    const rnd = seeded(20261205);
    for (const [g, m, p] of [[30, 10, 0.3], [50, 5, 0.2], [20, 20, 0.5]] as const) {
      const R = 1500;
      let ratio = 0;
      let covered = 0;
      for (let r = 0; r < R; r++) {
        const clusters = Array.from({ length: g }, () => {
          let k = 0;
          for (let j = 0; j < m; j++) if (rnd() < p) k++;
          return { k, n: m };
        });
        const c = clusteredInterval(clusters);
        const w = wilson(c.k, c.n);
        ratio += (c.high! - c.low!) / (w.high! - w.low!);
        if (c.low! <= p && p <= c.high!) covered++;
      }
      // Never narrower than Wilson (n_eff is capped at n), so the mean ratio sits just above 1:
      // the estimated design effect scatters around 1 and the cap keeps only its upper half.
      const mean = ratio / R;
      assert.ok(mean >= 1 && mean < 1.06, `${g} prompts × ${m} cells, p = ${p}: mean width ratio ${mean.toFixed(4)}`);
      assert.ok(covered / R >= 0.93, `coverage ${covered / R}`);
    }
  });

  it('counts each prompt once at p = 0 or 1, has no interval below two prompts, and refuses impossible counts', () => {
    const none = clusteredInterval([{ k: 0, n: 50 }, { k: 0, n: 50 }, { k: 0, n: 50 }]);
    assert.deepEqual([none.low, none.nEff, none.high], [0, 3, wilson(0, 3).high]);
    const all = clusteredInterval([{ k: 5, n: 5 }, { k: 7, n: 7 }]);
    assert.deepEqual([all.low, all.high], [wilson(2, 2).low, 1]);
    assert.deepEqual(clusteredInterval([{ k: 3, n: 10 }]), { k: 3, n: 10, rate: 0.3, low: null, high: null, prompts: 1, nEff: null });
    assert.deepEqual(clusteredInterval([]), { k: 0, n: 0, rate: null, low: null, high: null, prompts: 0, nEff: null });
    assert.throws(() => clusteredInterval([{ k: 4, n: 3 }]), RangeError);
    assert.deepEqual(clusterSums([{ k: 1, n: 2 }, { k: 0, n: 0 }, { k: 3, n: 4 }]), { k: 4, n: 6, g: 2, syy: 10, sym: 14, smm: 20 });
  });
});
