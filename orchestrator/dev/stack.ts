/**
 * The embedded local stack: PostgreSQL, NATS (JetStream) and the Temporal dev server,
 * with state under `<home>` (default `.faithsweep/`). Ports are chosen once (the
 * defaults when free) and kept in `<home>/stack.json`, so endpoints and data survive
 * `down` + `up`. A service whose URL is configured (DATABASE_URL, NATS_URL,
 * TEMPORAL_ADDRESS) is used as it is and never started or stopped here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { ExternalServices } from '../../common/cli/context.ts';
import type { Tools } from '../config/tools.ts';
import { preferredOrFreePort } from './ports.ts';
import { createNatsService } from './nats.ts';
import { createPostgresService, embeddedDatabaseUrl } from './postgres.ts';
import type { ServiceHealth, StackService } from './service.ts';
import { createTemporalService, probeTemporal } from './temporal.ts';
import pg from 'pg';

/** Ports of the embedded services, persisted in `<home>/stack.json`. */
export interface StackPorts {
  readonly postgres: number;
  readonly nats: number;
  readonly natsMonitor: number;
  readonly temporal: number;
  readonly temporalUi: number;
  readonly temporalHttp: number;
  readonly temporalMetrics: number;
}

/** Preferred ports: the usual ones, except PostgreSQL, kept off 5432 to avoid a system cluster. */
export const DEFAULT_PORTS: StackPorts = Object.freeze({
  postgres: 55432,
  nats: 4222,
  natsMonitor: 8222,
  temporal: 7233,
  temporalUi: 8233,
  temporalHttp: 7243,
  temporalMetrics: 7244,
});

/** Services configured outside the embedded stack (parsed from the environment in common/cli/context.ts). */
export type { ExternalServices } from '../../common/cli/context.ts';

/** Options of the local stack. */
export interface StackOptions {
  /** State directory. */
  readonly home: string;
  /** Per-user cache directory. */
  readonly cacheDir: string;
  /** Program paths (from scripts/setup). */
  readonly tools: Tools;
  /** Services not to manage. */
  readonly external: ExternalServices;
  /** Which services this stack covers. @default all three */
  readonly services?: readonly ServiceName[];
}

/** The services of the local stack. */
export type ServiceName = 'postgres' | 'nats' | 'temporal';

/** Where the stack's services answer. */
export interface Endpoints {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly temporalAddress: string;
  /** Web UI of the embedded Temporal server; null for an external one. */
  readonly temporalUiUrl: string | null;
}

/** A started or attached stack. */
export interface LocalStack {
  readonly endpoints: Endpoints;
  /**
   * One line per port of a managed service that is not its default (another program held the
   * default when this stack's ports were chosen), e.g. `nats 40123 (default 4222 was taken)`;
   * empty when every managed service has its default port. `dev up`, `dev status` and `demo` print it.
   */
  readonly portNotes: readonly string[];
  /** Starts every managed service that is not running and waits until all are healthy. */
  up(): Promise<readonly ServiceStatus[]>;
  /** Stops every managed service this stack started. */
  down(): Promise<readonly { name: string; stopped: boolean }[]>;
  /** Probes every service once. */
  status(): Promise<readonly ServiceStatus[]>;
}

/** Health of one service plus whether the stack manages it. */
export interface ServiceStatus {
  readonly name: string;
  readonly managed: boolean;
  readonly health: ServiceHealth;
}

/** Reads `<home>/stack.json`, or picks and persists ports when there is none. */
export async function loadOrAllocatePorts(home: string): Promise<StackPorts> {
  const file = join(home, 'stack.json');
  if (existsSync(file)) {
    return Object.freeze(JSON.parse(readFileSync(file, 'utf8')).ports as StackPorts);
  }
  const taken = new Set<number>();
  const ports: Record<string, number> = {};
  for (const [key, preferred] of Object.entries(DEFAULT_PORTS)) {
    const p = await preferredOrFreePort(preferred, taken);
    taken.add(p);
    ports[key] = p;
  }
  mkdirSync(home, { recursive: true });
  writeFileSync(file, JSON.stringify({ ports }, null, 2) + '\n');
  return Object.freeze(ports as unknown as StackPorts);
}

/** Which ports each service uses (the Temporal dev server listens on four). */
const SERVICE_PORTS: Readonly<Record<ServiceName, readonly (keyof StackPorts)[]>> = {
  postgres: ['postgres'],
  nats: ['nats', 'natsMonitor'],
  temporal: ['temporal', 'temporalUi', 'temporalHttp', 'temporalMetrics'],
};

/**
 * Lines naming each port of the `managed` services that differs from {@link DEFAULT_PORTS}:
 * `<port name> <port> (default <default> was taken)`. Ports are chosen once per home, so a
 * port stays where it was put even after the program holding its default has gone.
 */
export function portNotes(ports: StackPorts, managed: readonly ServiceName[]): string[] {
  const out: string[] = [];
  for (const service of managed) {
    for (const key of SERVICE_PORTS[service]) {
      if (ports[key] !== DEFAULT_PORTS[key]) out.push(`${key} ${ports[key]} (default ${DEFAULT_PORTS[key]} was taken)`);
    }
  }
  return out;
}

/** Endpoints for the given ports and external overrides. */
export function endpointsFor(ports: StackPorts, external: ExternalServices): Endpoints {
  return Object.freeze({
    databaseUrl: external.databaseUrl || embeddedDatabaseUrl(ports.postgres),
    natsUrl: external.natsUrl || `nats://127.0.0.1:${ports.nats}`,
    temporalAddress: external.temporalAddress || `127.0.0.1:${ports.temporal}`,
    temporalUiUrl: external.temporalAddress ? null : `http://127.0.0.1:${ports.temporalUi}`,
  });
}

/** Builds the stack (nothing is started until {@link LocalStack.up}). */
export async function createLocalStack(opts: StackOptions): Promise<LocalStack> {
  const ports = await loadOrAllocatePorts(opts.home);
  const endpoints = endpointsFor(ports, opts.external);
  const services: StackService[] = [];
  const wanted = new Set<ServiceName>(opts.services ?? ['postgres', 'nats', 'temporal']);

  if (wanted.has('postgres')) {
    services.push(opts.external.databaseUrl ? externalService('postgres', opts.external.databaseUrl, probeExternalPostgres) : embeddedPostgres(opts, ports));
  }
  if (wanted.has('nats')) {
    services.push(
      opts.external.natsUrl
        ? externalService('nats', opts.external.natsUrl, async (url) => ({ state: 'healthy', pid: null, endpoint: url, detail: 'external (not probed)' }))
        : createNatsService({ home: opts.home, binary: opts.tools.natsServer, port: ports.nats, monitorPort: ports.natsMonitor }),
    );
  }
  if (wanted.has('temporal')) {
    services.push(
      opts.external.temporalAddress
        ? externalService('temporal', opts.external.temporalAddress, (a) => probeTemporal(a, null, null))
        : createTemporalService({ home: opts.home, binary: opts.tools.temporal, port: ports.temporal, uiPort: ports.temporalUi, httpPort: ports.temporalHttp, metricsPort: ports.temporalMetrics }),
    );
  }

  const status = async () => Promise.all(services.map(async (s) => ({ name: s.name, managed: s.managed, health: await s.health() })));
  const managed = services.filter((s) => s.managed).map((s) => s.name as ServiceName);
  return {
    endpoints,
    portNotes: portNotes(ports, managed),
    async up() {
      // Sequential: on two cores, starting all three at once only slows each down.
      for (const s of services) await s.start();
      return status();
    },
    async down() {
      const out: { name: string; stopped: boolean }[] = [];
      for (const s of [...services].reverse()) out.push({ name: s.name, stopped: await s.stop() });
      return out;
    },
    status,
  };
}

function embeddedPostgres(opts: StackOptions, ports: StackPorts): StackService {
  if (!opts.tools.pgBinDir) {
    throw new FaithsweepError(ErrorCode.TOOL_MISSING, 'PostgreSQL binaries were not found and DATABASE_URL is not set', {
      hint: 'install PostgreSQL (apt-get install postgresql) and rerun scripts/setup, or set DATABASE_URL',
    });
  }
  return createPostgresService({ home: opts.home, cacheDir: opts.cacheDir, binDir: opts.tools.pgBinDir, runAs: opts.tools.pgRunAs, port: ports.postgres });
}

function externalService(name: string, endpoint: string, probe: (endpoint: string) => Promise<ServiceHealth>): StackService {
  return {
    name,
    managed: false,
    async start() {
      const h = await probe(endpoint);
      if (h.state !== 'healthy') {
        throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `the configured ${name} at ${redact(endpoint)} is not reachable: ${h.state === 'unhealthy' ? h.reason : h.state}`, {
          hint: `start it, or unset the variable to use the embedded ${name}`,
        });
      }
    },
    stop: async () => false,
    health: () => probe(endpoint),
  };
}

async function probeExternalPostgres(url: string): Promise<ServiceHealth> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { state: 'healthy', pid: null, endpoint: redact(url), detail: `external PostgreSQL ${r.rows[0]?.v ?? '?'}` };
  } catch (err) {
    return { state: 'unhealthy', pid: null, endpoint: redact(url), reason: (err as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Hides a password in a connection URL. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
