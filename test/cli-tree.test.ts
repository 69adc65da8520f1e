import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_MODULES, fullTree, treeFor } from '../bin/tree.ts';

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
});
