/**
 * Prerequisites of the end-to-end suites: a suite whose models are missing FAILS, saying what
 * is missing and what to do; it never skips (a wrong FAITHSWEEP_MODELS must not leave CI green
 * with no end-to-end test run).
 */
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';

/** The first bytes of a Git LFS pointer file (a model file that was never fetched). */
const LFS_POINTER = 'version https://git-lfs';

function isLfsPointer(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(LFS_POINTER.length);
    readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('latin1') === LFS_POINTER;
  } finally {
    closeSync(fd);
  }
}

/**
 * What is missing for `suite` among the model directories `models` (model.json and model.onnx
 * under the models folder: FAITHSWEEP_MODELS, default models/) and any `files`: a message saying
 * what to do, or null when everything is there.
 */
export function missingPrerequisites(suite: string, models: readonly string[], files: readonly string[] = []): string | null {
  const modelsDir = resolvePaths(process.env).modelsDir;
  const wanted = [...models.flatMap((m) => ['model.json', 'model.onnx'].map((f) => join(modelsDir, m, f))), ...files];
  const missing = wanted.filter((p) => !existsSync(p));
  const pointers = wanted.filter((p) => existsSync(p) && p.endsWith('.onnx') && isLfsPointer(p));
  if (missing.length === 0 && pointers.length === 0) return null;
  const env = process.env['FAITHSWEEP_MODELS'];
  return [
    `${suite} cannot run: its prerequisites are missing.`,
    ...missing.map((p) => `  missing: ${p}`),
    ...pointers.map((p) => `  a Git LFS pointer, not the model: ${p}`),
    `The models folder is ${modelsDir} (${env ? `FAITHSWEEP_MODELS=${env}` : 'the default models/; FAITHSWEEP_MODELS is not set'}).`,
    env
      ? 'Fix FAITHSWEEP_MODELS to name the folder that holds the trained organisms, or unset it to use the repository\'s models/.'
      : 'The organisms are committed under models/: restore them (git checkout -- models, or git lfs pull), or rebuild them (models/README.md).',
  ].join('\n');
}

/** Throws (failing the suite's `before` hook, so every test of the suite fails) when {@link missingPrerequisites} finds something. */
export function requirePrerequisites(suite: string, models: readonly string[], files: readonly string[] = []): void {
  const message = missingPrerequisites(suite, models, files);
  if (message) throw new Error(message);
}
