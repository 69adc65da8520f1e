// The CLI surface: help at every level, one-line coded errors, non-zero exits on bad input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the faithsweep CLI', () => {
  it('prints usage with --help and lists the commands', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: faithsweep <command>/);
    for (const c of ['dev', 'db', 'demo']) assert.match(r.stdout, new RegExp(`^  ${c}\\s`, 'm'));
  });

  it('prints usage for the dev group and for each of its commands', () => {
    const g = cli('dev', '--help');
    assert.equal(g.code, 0);
    assert.match(g.stdout, /Usage: faithsweep dev <command>/);
    for (const sub of ['up', 'down', 'status']) {
      const r = cli('dev', sub, '--help');
      assert.equal(r.code, 0, `dev ${sub} --help`);
      assert.match(r.stdout, new RegExp(`Usage: faithsweep dev ${sub}`));
    }
    assert.equal(cli('db', 'migrate', '--help').code, 0);
  });

  it('prints usage for every command it lists', () => {
    const listed = [...cli('--help').stdout.matchAll(/^ {2}([a-z]+)\s/gm)].map((m) => m[1]!);
    for (const c of ['plan', 'launch', 'status', 'watch', 'list', 'cancel', 'resume', 'worker', 'query', 'export', 'report', 'tokenize']) assert.ok(listed.includes(c), `${c} is listed`);
    for (const c of listed.filter((x) => !['dev', 'db'].includes(x))) {
      const r = cli(c, '--help');
      assert.equal(r.code, 0, `${c} --help`);
      assert.match(r.stdout, new RegExp(`Usage: faithsweep ${c}`));
    }
  });

  it('plans the demo sweep without any service: work units, cells and an estimate', () => {
    const r = cli('plan', 'examples/demo.yaml', '--json');
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { workUnits: number; cells: number; cellsExact: boolean; prompts: number; models: { name: string }[] };
    assert.deepEqual(p.models.map((m) => m.name), ['arith-cot', 'arith-cot-decoupled']);
    // 12 prompts x 2 models; per unit 27 CoT positions x 3 steps (replace) + 3 probes = 84.
    assert.deepEqual({ units: p.workUnits, prompts: p.prompts, cells: p.cells, exact: p.cellsExact }, { units: 24, prompts: 12, cells: 24 * 84, exact: false });
    const missing = cli('plan', 'examples/nope.yaml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error\[BAD_ARGS\]: spec file examples\/nope\.yaml does not exist/);
  });

  it('rejects an unknown command with a one-line coded error and a non-zero exit', () => {
    const r = cli('frobnicate');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], "error[UNKNOWN_COMMAND]: unknown command 'frobnicate'");
    assert.ok(!/\bat .*\.ts:\d+/.test(r.stderr), 'no stack trace');
  });

  it('rejects an unknown flag without running the command', () => {
    const r = cli('dev', 'status', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[BAD_ARGS\]: .*--bogus/);
  });
});
