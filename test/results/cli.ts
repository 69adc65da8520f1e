/** Runs the faithsweep CLI against a test database (DATABASE_URL), as a user would. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';

/** Exit code and output of one CLI run. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `faithsweep ...args` with DATABASE_URL = `url`. */
export function cli(url: string, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: url, FAITHSWEEP_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
