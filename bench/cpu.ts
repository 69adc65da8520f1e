// CPU time of processes, read from /proc (Linux): what the benches report next to wall-clock
// rates, since a rate on a shared machine measures its load as much as the code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICK_S = 0.01; // USER_HZ is 100 on Linux

/** CPU seconds (user + system) of one process; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch {
    return 0;
  }
}

/** The postmaster of the cluster in `pgHome` (`<home>/pg`) and every process it started. */
export function clusterPids(pgDataDir: string): number[] {
  const postmaster = Number(readFileSync(join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * CPU seconds of the children a process has waited for (cutime + cstime): the postmaster
 * reaps its backends and autovacuum workers, so their time moves here when they exit.
 */
export function reapedCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[13]) + Number(f[14])) * TICK_S;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of a PostgreSQL cluster (its postmaster, its live children, and the children it
 * has reaped, so that a backend or autovacuum worker that exits during a measure still counts)
 * plus this process.
 */
export function cpuMeter(pgDataDir: string): () => { server: number; client: number } {
  const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const server = () => {
    const pids = clusterPids(pgDataDir);
    return pids.reduce((a, p) => a + cpuSeconds(p), 0) + reapedCpuSeconds(pids[0]!);
  };
  const s0 = server();
  const c0 = self();
  return () => ({ server: server() - s0, client: self() - c0 });
}
