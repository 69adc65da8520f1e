// The flagship end-to-end suites (agent-e2e, sweep-e2e, demo-sweep) FAIL, never skip, when their
// trained models are missing: run with a wrong FAITHSWEEP_MODELS, each reports what is missing
// and what to do, and the run exits non-zero.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';

const SUITES = ['test/agent/agent-e2e.test.ts', 'test/sweep/sweep-e2e.test.ts', 'test/sweep/demo-sweep.test.ts'];

describe('end-to-end prerequisites', () => {
  it('a wrong FAITHSWEEP_MODELS fails each flagship suite with what to do (nothing skipped)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'faithsweep-no-models-'));
    // A fresh test run, not one nested in this file's (node:test refuses nested runs).
    const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
    try {
      for (const suite of SUITES) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', suite], {
          cwd: REPO_ROOT, encoding: 'utf8', env: { ...env, FAITHSWEEP_MODELS: empty }, timeout: 300_000,
        });
        const out = `${r.stdout}\n${r.stderr}`;
        assert.notEqual(r.status, 0, `${suite} must fail:\n${out.slice(-2000)}`);
        assert.match(out, /cannot run: its prerequisites are missing/, suite);
        assert.ok(out.includes(`missing: ${join(empty, 'arith-cot', 'model.json')}`), suite);
        assert.ok(out.includes(`FAITHSWEEP_MODELS=${empty}`) && out.includes('Fix FAITHSWEEP_MODELS'), suite);
        assert.match(out, /# skipped 0/, `${suite}: nothing skipped`);
        assert.doesNotMatch(out, /# pass [1-9]/, `${suite}: nothing passes without its models`);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
