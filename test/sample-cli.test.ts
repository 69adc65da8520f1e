// `faithsweep sample` on a real organism: lengths it must refuse (an explicit 0 is not "the
// default"), a negative seed named as such, steps beyond gen_length, and correctness that is
// unknown (null) when no gold answer is given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../orchestrator/config/paths.ts';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'sample', '--model', 'arith-cot', '--prompt', '0347+1285=', ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('faithsweep sample', () => {

  it('rejects --steps 0 and the other lengths at 0 instead of silently using the card default', () => {
    for (const flag of ['--steps', '--gen-length', '--block-length']) {
      const r = cli(flag, '0');
      assert.equal(r.code, 2, flag);
      assert.match(r.stderr, new RegExp(`^error\\[BAD_ARGS\\]: ${flag} must be a positive integer below 2\\^32 \\(got '0'\\)`), flag);
      assert.match(r.stderr, /hint: leave .* out to use the model card's default/);
    }
  });

  it('names a negative seed and says how to pass a value that starts with a dash', () => {
    const spaced = cli('--seed', '-1');
    assert.equal(spaced.code, 2);
    assert.match(spaced.stderr, /^error\[BAD_ARGS\]: option '--seed' is followed by '-1', which starts with '-': write --seed=-1 if it is the value/);
    const joined = cli('--seed=-1');
    assert.equal(joined.code, 2);
    assert.match(joined.stderr, /^error\[BAD_ARGS\]: --seed must be a non-negative integer below 2\^32 \(got '-1'\)/);
  });

  it('runs with steps > gen_length: exactly gen_length tokens, every one committed, the extra steps commit nothing', () => {
    const r = cli('--steps', '100', '--gen-length', '40', '--block-length', '40', '--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { tokens: number[]; commitStep: number[] };
    assert.equal(t.tokens.length, 40);
    assert.equal(t.commitStep.length, 40);
    const steps = new Set(t.commitStep);
    assert.ok(t.commitStep.every((s) => s >= 0 && s < 100), 'every position committed within the 100 steps');
    assert.equal(steps.size, 40, 'one token per step: quota ceil(m / steps left) is 1 while steps left >= masked');
  });

  it('reports correct: null when no gold answer is known', () => {
    const r = cli('--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { correct: unknown; answer: string };
    assert.equal(t.answer, '1632');
    assert.equal(t.correct, null);
  });
});
