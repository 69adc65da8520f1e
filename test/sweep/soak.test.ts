// The soak (test/sweep/soak.ts, `npm run soak`) for 2 minutes: sweeps on the real stack while
// agents, the worker and the Temporal server are SIGKILLed at random and restarted; every
// sweep must end with exactly its plan (zero lost, zero duplicate cells). Longer runs are by
// hand: `npm run soak -- --minutes 15`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import type { SoakSummary } from './soak.ts';

const SOAK = join(REPO_ROOT, 'test', 'sweep', 'soak.ts');

function runSoak(args: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', SOAK, ...args], { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('the soak', { timeout: 20 * 60_000 }, () => {
  it('refuses bad flags with a coded error and starts nothing', async () => {
    const r = await runSoak(['--minutes', '0'], 60_000);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[BAD_ARGS\]: --minutes must be a number of minutes in \(0, 1440\] \(got '0'\)/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  });

  it('2 minutes of random SIGKILLs of agents, the worker and Temporal: every sweep equals its plan', async (t) => {
    // Two minutes of faults, then the last sweep drains; start-up and drain on two loaded cores take minutes.
    const r = await runSoak(['--minutes', '2', '--json'], 18 * 60_000);
    const summary = JSON.parse(r.stdout || '{}') as SoakSummary;
    assert.equal(r.code, 0, `soak failed (exit ${r.code}): ${summary.error ?? ''}\n${r.stderr.slice(-4000)}`);
    t.diagnostic(`seed ${summary.seed}: kills ${JSON.stringify(summary.kills)}; ${summary.sweeps.length} sweeps, ${summary.cells.rows}/${summary.cells.planned} cells; wall ${(summary.wallMs / 1000).toFixed(0)} s`);
    assert.equal(summary.ok, true);
    for (const kind of ['agent', 'worker', 'temporal'] as const) assert.ok(summary.kills[kind] >= 1, `${kind} was killed at least once`);
    assert.ok(summary.sweeps.length >= 1);
    for (const s of summary.sweeps) {
      assert.deepEqual({ lost: s.lost, duplicates: s.duplicates, extra: s.extra }, { lost: 0, duplicates: 0, extra: 0 }, s.name);
      assert.equal(s.rows, s.planned, s.name);
      assert.equal(s.planned, s.units * 30, `${s.name}: 30 cells per work unit`);
    }
  });
});
