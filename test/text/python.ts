/**
 * Runs test/text/hf_reference.py in the Python venv that scripts/setup creates under the
 * user cache (pyarrow, tokenizers, jinja2; versions in scripts/versions.env). A missing venv
 * fails the test with what to run; it never skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';

/** The venv's python. */
export const PYTHON = join(resolvePaths(process.env).cacheDir, 'pyenv', 'bin', 'python');

/** Sends one request to the reference script and returns its JSON answer. */
export function pythonReference<T>(request: unknown): T {
  assert.ok(existsSync(PYTHON), `Python venv missing at ${PYTHON}: run scripts/setup (it creates it with pyarrow, tokenizers and jinja2)`);
  const r = spawnSync(PYTHON, [join(import.meta.dirname, 'hf_reference.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `hf_reference.py failed (is the venv current? run scripts/setup):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
