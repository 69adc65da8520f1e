/**
 * The node agent's gRPC server: `faithsweep.v1.Agent` (Describe, RunGroup) on top of a
 * {@link GroupEngine}, plus `grpc.health.v1.Health`. Agent RPCs need the shared token;
 * health is open. {@link AgentGrpcServer.drain} shuts down gracefully.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Metadata, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { AgentService } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { DescribeRequest, DescribeResponse, DeviceInfo } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Logger } from '../../common/log.ts';
import type { GroupEngine } from '../engine/engine.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import { tokenChecker } from '../../common/grpc/auth.ts';
import { GroupSlots } from './group-slots.ts';
import { toServiceError } from '../../common/grpc/status.ts';
import { HealthRegistry, HealthService, ServingStatus } from './health.ts';
import { SERVER_KEEPALIVE } from '../../common/grpc/keepalive.ts';
import { runGroupHandler } from './run-group.ts';

/** Time given to aborted groups to stop at their next step boundary before the server closes. */
export const ABORT_SETTLE_MS = 2_000;
/** Time tryShutdown gets to close connections before forceShutdown. */
export const SHUTDOWN_TIMEOUT_MS = 2_000;
/** Health service names answered: '' (the whole server) and the Agent service. */
export const HEALTH_SERVICES = ['', 'faithsweep.v1.Agent'] as const;

/** Options of {@link createAgentServer}. */
export interface AgentServerOptions {
  readonly engine: GroupEngine;
  /** Stable id of this agent process (its registry key). */
  readonly agentId: string;
  /** faithsweep version reported by Describe. */
  readonly version: string;
  /** Device reported by Describe. */
  readonly device: DeviceInfo;
  /** Shared token every Agent RPC must present (at least 16 characters). */
  readonly token: string;
  /** Groups run at once; past this RunGroup answers RESOURCE_EXHAUSTED. */
  readonly maxConcurrentGroups: number;
  /** Branches per batched forward pass (reported by Describe). */
  readonly maxBatch: number;
  /**
   * PEM certificate chain and key; plaintext when absent. With `clientCa`, mutual TLS: every
   * client (the worker) must present a certificate signed by that CA bundle.
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
  /**
   * Serve plaintext on a non-loopback address anyway (a network one trusts). Without it,
   * {@link AgentGrpcServer.listen} refuses such an address unless `tls` is given.
   */
  readonly insecurePlaintext?: boolean;
  readonly log: Logger;
  /** Called whenever the number of running groups changes (e.g. to refresh the registry). */
  readonly onInFlightChange?: (inFlight: number) => void;
}

/** What {@link AgentGrpcServer.drain} did. */
export interface DrainReport {
  /** Groups still running at the end of the grace period, which were aborted. */
  readonly aborted: number;
  /** Whether every group had stopped before the server closed. */
  readonly idle: boolean;
}

/** A running agent server. */
export interface AgentGrpcServer {
  /**
   * Binds `host:port` (port 0 = any free port) and starts serving; resolves with the bound port.
   * @throws AgentError INSECURE_LISTEN for a non-loopback `host` without TLS (unless `insecurePlaintext`).
   */
  listen(host: string, port: number): Promise<number>;
  /** What Describe answers now. */
  describe(): DescribeResponse;
  /** Groups running now. */
  readonly inFlight: number;
  /**
   * Stops taking new groups (UNAVAILABLE with AGENT_DRAINING; health NOT_SERVING), waits up
   * to `graceMs` for running groups, aborts the rest, then shuts the server down.
   */
  drain(graceMs: number): Promise<DrainReport>;
}

/**
 * Whether `host` only reaches this machine: `localhost`, 127.0.0.0/8, `::1` (also as
 * `::ffff:127.x.x.x`). Anything else (0.0.0.0, `::`, a LAN address, a name) is a network.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Builds the server; nothing listens until {@link AgentGrpcServer.listen}. Throws BAD_REQUEST for a short token. */
export function createAgentServer(opts: AgentServerOptions): AgentGrpcServer {
  const checkToken = tokenChecker(opts.token);
  const authorize = (call: { metadata: Metadata }) => checkToken(call.metadata);
  const slots = new GroupSlots(opts.maxConcurrentGroups, (n) => opts.onInFlightChange?.(n));
  const health = new HealthRegistry();
  for (const s of HEALTH_SERVICES) health.set(s, ServingStatus.NOT_SERVING);
  // Keepalive: a caller cut off by the network has its calls cancelled within ~30 s (keepalive.ts).
  const server = new Server({ ...SERVER_KEEPALIVE });
  let drained: Promise<DrainReport> | undefined;

  const describe = (): DescribeResponse => ({
    agentId: opts.agentId,
    version: opts.version,
    device: opts.device,
    models: [...opts.engine.models()],
    capacity: { maxConcurrentGroups: slots.max, inFlight: slots.inFlight, maxBatch: opts.maxBatch },
  });

  server.addService(AgentService, {
    describe: (call: ServerUnaryCall<DescribeRequest, DescribeResponse>, cb: sendUnaryData<DescribeResponse>) => {
      try {
        authorize(call);
        cb(null, describe());
      } catch (err) {
        cb(toServiceError(err));
      }
    },
    runGroup: runGroupHandler({ engine: opts.engine, slots, authorize, log: opts.log }),
  });
  server.addService(HealthService, health.implementation());

  const shutdown = async () => {
    health.endWatches();
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), SHUTDOWN_TIMEOUT_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!closed) server.forceShutdown();
  };

  return {
    async listen(host, port) {
      if (!opts.tls && !opts.insecurePlaintext && !isLoopback(host)) {
        throw new AgentError(AgentErrorCode.INSECURE_LISTEN,
          `refusing to listen on ${host} without TLS: the agent token would cross the network in clear text. ` +
          'Give --tls-cert and --tls-key (and --tls-client-ca for mutual TLS, see README "Agents across hosts"), bind 127.0.0.1, ' +
          'or pass --insecure-plaintext on a network you trust');
      }
      const creds = opts.tls
        ? ServerCredentials.createSsl(opts.tls.clientCa ?? null, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], Boolean(opts.tls.clientCa))
        : ServerCredentials.createInsecure();
      const bound = await new Promise<number>((resolve, reject) => {
        server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
      });
      for (const s of HEALTH_SERVICES) health.set(s, ServingStatus.SERVING);
      opts.log.info('agent server listening', { host, port: bound, tls: Boolean(opts.tls) });
      return bound;
    },
    describe,
    get inFlight() {
      return slots.inFlight;
    },
    drain(graceMs) {
      drained ??= (async () => {
        slots.startDraining();
        health.setAll(ServingStatus.NOT_SERVING);
        opts.log.info('draining', { inFlight: slots.inFlight, graceMs });
        let aborted = 0;
        let idle = await slots.waitIdle(graceMs);
        if (!idle) {
          aborted = slots.inFlight;
          opts.log.warn('grace period over: aborting running groups', { aborted });
          slots.abortAll();
          idle = await slots.waitIdle(ABORT_SETTLE_MS);
        }
        await shutdown();
        return { aborted, idle };
      })();
      return drained;
    },
  };
}
