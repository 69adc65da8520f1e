// `faithsweep sample --paraphrase` on the real arith-cot organism: the film strip shows every
// paraphrase event, --json carries them, and a bad flag is BAD_ARGS naming the part.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'sample', '--model', 'arith-cot', '--prompt', '0347+1285=', ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('faithsweep sample --paraphrase', () => {
  it('shows the paraphrase events in the film strip, one after every 2nd step, and lists them in --json', () => {
    const r = cli('--paraphrase', 'every=2,remask=0.3', '--show-steps');
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.split('\n').filter((l) => l.includes('⟲ paraphrase (arith-swap): "'));
    assert.equal(events.length, 19, r.stdout);
    assert.match(r.stdout, /\(−\d+ remasked\)/);
    assert.match(r.stdout, /⟲ paraphrase event after the step/);
    assert.match(r.stdout, /^answer {5}\d+$/m);
    const j = cli('--paraphrase', 'every=2,remask=0.3', '--json');
    const t = JSON.parse(j.stdout) as { paraphraseEvents: { step: number; before: string; after: string; remasked: number[] }[] };
    assert.deepEqual(t.paraphraseEvents.map((e) => e.step), Array.from({ length: 19 }, (_, k) => 2 * k + 1));
  });

  it('refuses a malformed flag with BAD_ARGS naming the part, and a fast-dllm run', () => {
    const r = cli('--paraphrase', 'every=2,remask=high');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[BAD_ARGS\]: --paraphrase: remask must be a number \(got 'high'\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const p = cli('--paraphrase', 'every=2,remask=0.3,paraphraser=nonesuch');
    assert.equal(p.code, 2);
    assert.match(p.stderr, /paraphraser 'nonesuch' is not a rule-based paraphraser \(arith-swap, arith-canonical, word-problems\)/);
  });
});
