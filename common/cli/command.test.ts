import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { command, dispatch, group, positionalsOf } from './command.ts';
import type { CliContext } from './context.ts';
import { resolvePaths } from '../config/paths.ts';

function harness() {
  const out: string[] = [];
  const calls: unknown[] = [];
  const ctx: CliContext = { paths: resolvePaths({}), external: {}, agentToken: undefined, tools: {}, noColor: false, childEnv: (extra = {}) => ({ ...extra }), json: false, out: (l) => out.push(l), err: (l) => out.push(l) };
  const leaf = command({
    name: 'go',
    summary: 'Go somewhere',
    args: 'WHERE',
    options: { fast: { type: 'boolean' } },
    async run(c, input) {
      calls.push({ json: c.json, values: { ...input.values }, positionals: input.positionals });
      return 0;
    },
  });
  const root = group('tool', 'A tool', [group('sub', 'Sub commands', [leaf])]);
  return { out, calls, ctx, root };
}

describe('command dispatch', () => {
  it('runs a nested command with its flags and positionals', async () => {
    const h = harness();
    assert.equal(await dispatch(h.root, ['sub', 'go', 'home', '--fast', '--json'], h.ctx), 0);
    assert.deepEqual(h.calls, [{ json: true, values: { fast: true, json: true }, positionals: ['home'] }]);
  });

  it('prints a group usage listing its commands, and a command usage with its options', async () => {
    const h = harness();
    assert.equal(await dispatch(h.root, ['sub', '--help'], h.ctx), 0);
    assert.match(h.out.join('\n'), /Usage: tool sub <command>[\s\S]*go +Go somewhere/);
    assert.equal(await dispatch(h.root, ['sub', 'go', '-h'], h.ctx), 0);
    assert.match(h.out.join('\n'), /Usage: tool sub go WHERE \[options\][\s\S]*--fast/);
    assert.deepEqual(h.calls, []);
  });

  it('throws coded errors for unknown commands and flags before running anything', async () => {
    const h = harness();
    await assert.rejects(dispatch(h.root, ['sub', 'stop'], h.ctx), { code: 'UNKNOWN_COMMAND', message: "unknown command 'sub stop'" });
    await assert.rejects(dispatch(h.root, ['sub', 'go', '--slow'], h.ctx), { code: 'BAD_ARGS' });
    assert.deepEqual(h.calls, []);
  });

  it('refuses more positional arguments than the command takes, naming them', async () => {
    const h = harness();
    await assert.rejects(dispatch(h.root, ['sub', 'go', 'home', 'away'], h.ctx), { code: 'BAD_ARGS', message: "'tool sub go' takes 1 argument (WHERE): unexpected 'away'" });
    assert.deepEqual(h.calls, []);
    assert.equal(positionalsOf(command({ name: 'x', summary: 'x', args: 'SWEEP --out report.html', async run() {} })), 1);
    assert.equal(positionalsOf(command({ name: 'x', summary: 'x', args: '(--model NAME | --tokenizer DIR)', async run() {} })), 0);
    assert.equal(positionalsOf(command({ name: 'x', summary: 'x', async run() {} })), 0);
  });
});
