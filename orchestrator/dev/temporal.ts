/**
 * The embedded Temporal dev server (`temporal server start-dev`), its state in a SQLite
 * file under `<home>/temporal/`, with the Web UI on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { launchDetached, runningPid, stopByPidFile, tailLog } from './processes.ts';
import type { ServiceHealth, StackService } from './service.ts';
import { waitHealthy } from './service.ts';

/** The dev server flushes SQLite and stops its UI server on SIGTERM within seconds. */
const TEMPORAL_STOP_GRACE_MS = 20_000;
/** First start creates the SQLite schema and the default namespace. */
const TEMPORAL_START_TIMEOUT_MS = 90_000;

/** Ports of the embedded Temporal dev server. */
export interface TemporalPorts {
  readonly port: number;
  readonly uiPort: number;
  readonly httpPort: number;
  readonly metricsPort: number;
}

/** Options of the embedded Temporal service. */
export interface TemporalOptions extends TemporalPorts {
  readonly home: string;
  readonly binary: string;
}

/** Probes a Temporal frontend (and optionally its UI) once. */
export async function probeTemporal(address: string, uiUrl: string | null, pid: number | null): Promise<ServiceHealth> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2000 });
    const info = await connection.workflowService.getSystemInfo({});
    let detail = `server ${info.serverVersion || '?'}`;
    if (uiUrl) {
      const res = await fetch(uiUrl, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) return { state: 'unhealthy', pid, endpoint: address, reason: `Web UI at ${uiUrl} answered ${res.status}` };
      detail += `, UI ${uiUrl}`;
    }
    return { state: 'healthy', pid, endpoint: address, detail };
  } catch (err) {
    if (pid === null) return { state: 'stopped', endpoint: address };
    return { state: 'unhealthy', pid, endpoint: address, reason: (err as Error).message.split('\n')[0] ?? 'unknown' };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Creates the embedded Temporal service. */
export function createTemporalService(opts: TemporalOptions): StackService {
  const pidFile = join(opts.home, 'run', 'temporal.pid');
  const logFile = join(opts.home, 'logs', 'temporal.log');
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  const probe = () => probeTemporal(address, uiUrl, runningPid(pidFile));

  return {
    name: 'temporal',
    managed: true,
    async start() {
      if (runningPid(pidFile) === null) {
        const dir = join(opts.home, 'temporal');
        mkdirSync(dir, { recursive: true });
        launchDetached({
          command: opts.binary,
          args: [
            'server', 'start-dev',
            '--ip', '127.0.0.1',
            '--port', String(opts.port),
            '--ui-port', String(opts.uiPort),
            '--http-port', String(opts.httpPort),
            '--metrics-port', String(opts.metricsPort),
            '--db-filename', join(dir, 'temporal.db'),
            '--log-level', 'warn',
          ],
          logFile,
          pidFile,
        });
      }
      const h = await waitHealthy(probe, () => runningPid(pidFile) !== null, TEMPORAL_START_TIMEOUT_MS);
      if (h.state !== 'healthy') {
        throw new FaithsweepError(ErrorCode.SERVICE_START_FAILED, `the Temporal dev server did not become healthy on ${address}`, {
          hint: `see ${logFile}:\n${tailLog(logFile)}`,
        });
      }
    },
    stop: () => stopByPidFile(pidFile, 'SIGTERM', TEMPORAL_STOP_GRACE_MS),
    health: probe,
  };
}
