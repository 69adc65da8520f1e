/**
 * Runs the Python reference sampler's own tests (models/reference/test_reference.py: the
 * counter-based RNG, the reference sampler in every mode, the golden lines replayed on the
 * committed ONNX models, the tokenizers and chat template) with pytest in the venv that
 * scripts/setup creates under the user cache (numpy, onnxruntime, tokenizers, transformers,
 * pytest; versions in scripts/versions.env). No PyTorch is needed. A missing venv, a failing
 * test, or a skipped one (a missing package) fails this test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { PYTHON } from '../text/python.ts';

/** pytest's wall-clock limit: the whole file takes about 30 s on two shared cores. */
const PYTEST_TIMEOUT_MS = 15 * 60_000;

describe('the Python reference sampler', () => {
  it('passes every test of models/reference/test_reference.py, none skipped', () => {
    assert.ok(existsSync(PYTHON), `Python venv missing at ${PYTHON}: run scripts/setup`);
    const r = spawnSync(PYTHON, ['-m', 'pytest', 'models/reference/test_reference.py', '-q', '-rs', '-p', 'no:cacheprovider'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: PYTEST_TIMEOUT_MS,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `pytest failed (is the venv current? run scripts/setup):\n${out}`);
    const summary = /(\d+) passed/.exec(out);
    assert.ok(summary && Number(summary[1]) > 0, `no test passed:\n${out}`);
    assert.doesNotMatch(out, /\d+ (skipped|xfailed|deselected)/, `a reference test was skipped (a package missing from the venv?):\n${out}`);
  });
});
