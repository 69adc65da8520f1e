/**
 * The embedded NATS server with JetStream, its store in `<home>/nats`, listening on
 * 127.0.0.1, with the HTTP monitor used for health checks.
 */
import { join } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { launchDetached, runningPid, stopByPidFile, tailLog } from './processes.ts';
import type { ServiceHealth, StackService } from './service.ts';
import { waitHealthy } from './service.ts';

/** nats-server drains clients and flushes the JetStream store within a few seconds. */
const NATS_STOP_GRACE_MS = 10_000;
const NATS_START_TIMEOUT_MS = 30_000;

/** Options of the embedded NATS service. */
export interface NatsOptions {
  readonly home: string;
  readonly binary: string;
  readonly port: number;
  readonly monitorPort: number;
}

/** Creates the embedded NATS service. */
export function createNatsService(opts: NatsOptions): StackService {
  const pidFile = join(opts.home, 'run', 'nats.pid');
  const logFile = join(opts.home, 'logs', 'nats.log');
  const url = `nats://127.0.0.1:${opts.port}`;

  async function probe(): Promise<ServiceHealth> {
    const pid = runningPid(pidFile);
    try {
      const res = await fetch(`http://127.0.0.1:${opts.monitorPort}/healthz?js-enabled-only=true`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { state: 'healthy', pid, endpoint: url, detail: `JetStream on, monitor http://127.0.0.1:${opts.monitorPort}` };
      return { state: 'unhealthy', pid, endpoint: url, reason: `healthz answered ${res.status}: ${await res.text()}` };
    } catch (err) {
      if (pid === null) return { state: 'stopped', endpoint: url };
      return { state: 'unhealthy', pid, endpoint: url, reason: (err as Error).message };
    }
  }

  return {
    name: 'nats',
    managed: true,
    async start() {
      if (runningPid(pidFile) === null) {
        launchDetached({
          command: opts.binary,
          args: ['-a', '127.0.0.1', '-p', String(opts.port), '-m', String(opts.monitorPort), '-js', '-sd', join(opts.home, 'nats'), '-n', 'faithsweep-local'],
          logFile,
          pidFile,
        });
      }
      const h = await waitHealthy(probe, () => runningPid(pidFile) !== null, NATS_START_TIMEOUT_MS);
      if (h.state !== 'healthy') {
        throw new FaithsweepError(ErrorCode.SERVICE_START_FAILED, `nats-server did not become healthy on port ${opts.port}`, {
          hint: `see ${logFile}:\n${tailLog(logFile)}`,
        });
      }
    },
    stop: () => stopByPidFile(pidFile, 'SIGTERM', NATS_STOP_GRACE_MS),
    health: probe,
  };
}
