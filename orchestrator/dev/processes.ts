/**
 * Detached service processes tracked by pid files, so `dev down` stops exactly the
 * processes `dev up` started and never a stranger that reused the pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a service process is launched. */
export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pidFile: string;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** What a pid file records: the pid and the program, to detect pid reuse. */
interface PidRecord {
  readonly pid: number;
  readonly command: string;
}

/** Starts `spec` detached from this process, writes its pid file, and returns the pid. */
export function launchDetached(spec: LaunchSpec): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...spec.env },
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    const record: PidRecord = { pid: child.pid, command: spec.command };
    writeFileSync(spec.pidFile, JSON.stringify(record) + '\n');
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The pid recorded in `pidFile` if that process is alive and still runs the same program. */
export function runningPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return null;
  }
  if (!isAlive(record.pid)) return null;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    const base = record.command.split('/').pop() ?? record.command;
    if (!cmdline.includes(base)) return null;
  } catch {
    // No /proc (not Linux): trust the liveness check.
  }
  return record.pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops the process recorded in `pidFile` with `signal`, escalating to SIGKILL after
 * `graceMs`, and removes the pid file. Returns whether a process was stopped.
 */
export async function stopByPidFile(pidFile: string, signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
  const pid = runningPid(pidFile);
  if (pid === null) {
    rmSync(pidFile, { force: true });
    return false;
  }
  signalGroup(pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  if (isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** Signals the whole process group the service leads (it was started detached), so helpers it spawned stop too. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function tailLog(file: string, lines = 8): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
