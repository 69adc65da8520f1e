import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_MODULES, fullTree, treeFor } from '../bin/tree.ts';
import { REPO_ROOT } from '../common/config/paths.ts';

describe('the lazily loaded command tree', () => {
  it('names exactly the top-level commands the modules define', async () => {
    const names = (await fullTree()).children.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, `a top-level name is defined twice: ${names.join(', ')}`);
    assert.deepEqual([...names].sort(), Object.keys(COMMAND_MODULES).sort());
  });

  it('loads only the named command\'s module, and everything for help or an unknown word', async () => {
    assert.deepEqual((await treeFor(['tokenize', '--help'])).children.map((c) => c.name), ['tokenize']);
    assert.deepEqual((await treeFor(['status', 'x'])).children.map((c) => c.name), ['plan', 'launch', 'status', 'watch', 'list', 'cancel', 'resume']);
    const all = Object.keys(COMMAND_MODULES).length;
    for (const argv of [[], ['--help'], ['nosuch'], ['toString'], ['--json']]) {
      assert.equal((await treeFor(argv)).children.length, all, `argv ${JSON.stringify(argv)}`);
    }
  });

  it('prints the version with --version, and says so in the top-level help', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8' });
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = run('--version');
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, `faithsweep ${version} (Node.js ${process.versions.node})\n`);
    assert.match(run('--help').stdout, /^Run 'faithsweep --version' for the version\.$/m);
  });
});
