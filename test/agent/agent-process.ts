/** Starts `faithsweep agent` as a child process and reads its one-line JSON announcement. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';

/** The announcement `faithsweep agent --json` prints once serving. */
export interface AgentAnnouncement {
  readonly agentId: string;
  readonly address: string;
  readonly port: number;
  readonly bucket: string;
  readonly models: readonly string[];
}

/** A spawned agent. */
export interface AgentProcess {
  readonly child: ChildProcess;
  /** Resolves with the announcement; rejects if the process exits first or `startTimeoutMs` passes. */
  readonly ready: Promise<AgentAnnouncement>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything written to stderr so far (logs), for failure messages. */
  stderr(): string;
}

/**
 * Spawns `node bin/faithsweep.js agent --json ...args` with `env` (nothing else inherited but
 * PATH/HOME). `wrap` is a command prefix that execs the rest (e.g. `ip netns exec NS`), so
 * the child is still the agent process itself.
 */
export function spawnAgent(args: readonly string[], env: Record<string, string>, startTimeoutMs: number, wrap: readonly string[] = []): AgentProcess {
  const argv = [process.execPath, join(REPO_ROOT, 'bin', 'faithsweep.js'), 'agent', '--json', ...args];
  const [program, ...rest] = [...wrap, ...argv] as [string, ...string[]];
  const child = spawn(program, rest, {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<AgentAnnouncement>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not announce itself within ${startTimeoutMs} ms; stderr:\n${err}`)), startTimeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const first = JSON.parse(out.slice(0, nl)) as AgentAnnouncement | { error: { code: string; message: string } };
        // With --json a failed start prints {"error": {code, message, hint}} on stdout (and the line on stderr).
        if ('error' in first) reject(new Error(`agent failed to start: ${first.error.code}: ${first.error.message}; stderr:\n${err}`));
        else resolve(first);
      } catch (e) {
        reject(new Error(`agent printed a non-JSON first line: ${out.slice(0, nl)} (${(e as Error).message})`));
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (code ${code}, signal ${signal}) before announcing itself; stderr:\n${err}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, stderr: () => err };
}
