/**
 * Runs Python modules of models/ (exporters, synthetic models) in the models venv,
 * models/.venv (models/README.md: `python3 -m venv models/.venv && models/.venv/bin/pip install
 * -r models/requirements.txt`; torch, transformers, onnx, onnxruntime). A missing venv fails the
 * test with what to run; it never skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { PYTHON } from '../text/python.ts';

/** The models venv's python (PyTorch, transformers, onnx, onnxruntime). */
export const MODELS_PYTHON = join(REPO_ROOT, 'models', '.venv', 'bin', 'python');

/**
 * Which Python a module needs: `torch` (the models venv, built by hand: PyTorch is several GB and
 * not part of set-up) or `onnx` (onnx + numpy only: the venv scripts/setup keeps in the user cache,
 * the one the text parity tests use).
 */
export type PythonKind = 'torch' | 'onnx';

function pythonFor(kind: PythonKind): string {
  if (kind === 'onnx') {
    assert.ok(existsSync(PYTHON), `set-up's Python venv missing at ${PYTHON}: run bash scripts/setup (it installs onnx and numpy there)`);
    return PYTHON;
  }
  assert.ok(existsSync(MODELS_PYTHON), `models venv missing at ${MODELS_PYTHON}: python3 -m venv models/.venv && models/.venv/bin/pip install -r models/requirements.txt`);
  return MODELS_PYTHON;
}

/** Runs `python -m module args…` from the repository root; returns stdout, stderr and the exit status. */
export function runModelsPython(module: string, args: readonly string[], timeoutMs = 600_000, kind: PythonKind = 'torch'): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(pythonFor(kind), ['-m', module, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONHASHSEED: '0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like {@link runModelsPython}, asserting exit 0 and parsing the last stdout line as JSON. */
export function modelsPythonJson<T>(module: string, args: readonly string[], timeoutMs?: number, kind: PythonKind = 'torch'): T {
  const r = runModelsPython(module, args, timeoutMs, kind);
  assert.equal(r.status, 0, `python -m ${module} ${args.join(' ')} failed:\n${r.stderr.slice(-4000)}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
