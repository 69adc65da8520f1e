/**
 * Starts one agent process's parts in order — engine (loads and verifies the models), NATS,
 * gRPC server, registration — undoing what was started when a later step fails, and returns
 * a handle whose `stop()` shuts them down in the reverse order.
 */
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { createOnnxEngine } from '../engine/index.ts';
import type { OnnxEngine } from '../engine/index.ts';
import { createRegistration, openAgentsBucket } from '../registry/index.ts';
import type { AgentRecord, Registration } from '../registry/index.ts';
import { createAgentServer } from '../server/index.ts';
import type { AgentGrpcServer, DrainReport } from '../server/index.ts';
import type { AgentOptions } from './agent-options.ts';

/** What {@link startAgent} needs besides the options. */
export interface StartAgentDeps {
  readonly log: Logger;
  /** faithsweep version reported by Describe and the registry. */
  readonly version: string;
  /** Connects to NATS (throws a coded error when unreachable). */
  readonly connectNats: (url: string) => Promise<NatsConnection>;
  /** The NATS URL to use (the options', else the local stack's). */
  readonly natsUrl: string;
}

/** A running agent. */
export interface RunningAgent {
  readonly agentId: string;
  /** Address published in the registry. */
  readonly address: string;
  readonly port: number;
  readonly record: AgentRecord;
  readonly engine: OnnxEngine;
  readonly server: AgentGrpcServer;
  readonly registration: Registration;
  /**
   * Resolves with the reason if the NATS connection closes for good (reconnects exhausted)
   * before {@link RunningAgent.stop}; the agent can then no longer stay registered.
   */
  readonly connectionLost: Promise<Error>;
  /**
   * Deregisters (so no orchestrator picks this agent any more), drains the server within
   * `graceMs` (cancelling what is left), then closes NATS. Idempotent.
   */
  stop(graceMs: number): Promise<DrainReport>;
}

/** Starts the agent. Throws the failing step's coded error after undoing earlier steps. */
export async function startAgent(opts: AgentOptions, deps: StartAgentDeps): Promise<RunningAgent> {
  const { log } = deps;
  const { agentId } = opts;
  const engine = await createOnnxEngine({
    modelsDir: opts.modelsDir, device: opts.device, deviceId: opts.deviceId, allowCpuFallback: opts.allowCpuFallback, memoryBudgetBytes: opts.memoryBudgetBytes, intraOpThreads: opts.threads, paraphraseCommands: opts.paraphraseCommands, log, ...(opts.maxBatch === undefined ? {} : { maxBatch: opts.maxBatch }) });
  const nc = await deps.connectNats(deps.natsUrl);
  const undo: (() => Promise<unknown>)[] = [() => nc.close()];
  try {
    const kv = await openAgentsBucket(nc, { bucket: opts.bucket, ttlMs: opts.registryTtlMs });
    // Filled in once the server's port is known; the server's callback reads it later.
    const registry: { current?: Registration } = {};
    const server = createAgentServer({
      engine, agentId, version: deps.version, device: engine.describeDevice(), token: opts.token,
      maxConcurrentGroups: opts.maxGroups, maxBatch: engine.maxBatch, log, ...(opts.tls ? { tls: opts.tls } : {}), insecurePlaintext: opts.insecurePlaintext,
      // Publish in-flight changes at once so orchestrators see capacity without waiting a refresh period.
      onInFlightChange: () => void registry.current?.refresh(),
    });
    undo.unshift(() => server.drain(0));
    const port = await server.listen(opts.host, opts.port).catch((err: unknown) => {
      throw new FaithsweepError(ErrorCode.SERVICE_START_FAILED, `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, {
        hint: 'pick a free --port (0 = any) or another --host',
        cause: err,
      });
    });
    const wildcard = opts.host === '0.0.0.0' || opts.host === '::';
    const address = opts.advertise ?? `${wildcard ? hostname() : opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    const device = engine.describeDevice();
    const reg = createRegistration({
      kv, agentId, log,
      snapshot: () => ({
        address, tls: Boolean(opts.tls), version: deps.version,
        models: engine.models().map((m) => ({ name: m.name, sha256: m.sha256 })),
        capacity: { maxConcurrentGroups: opts.maxGroups, inFlight: server.inFlight, maxBatch: engine.maxBatch },
        device: { executionProvider: device.executionProvider, description: device.description },
      }),
    });
    registry.current = reg;
    const record = await reg.start();
    let stopped: Promise<DrainReport> | undefined;
    // Back from an outage or a network cut: write the entry at once (it has probably expired)
    // rather than at the next refresh, so workers see this agent again within a round trip.
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'reconnect' && !stopped) {
          log.info('NATS connection back: registering again', { server: s.server });
          void reg.refresh();
        }
      }
    })().catch(() => undefined);
    const connectionLost = nc.closed().then((err) => (stopped ? new Promise<never>(() => {}) : (err ?? new Error('the NATS connection closed'))));
    return {
      agentId, address, port, record, engine, server, registration: reg, connectionLost,
      stop(graceMs) {
        stopped ??= (async () => {
          await reg.deregister().catch((err: unknown) => log.warn('deregister failed; the entry will expire with its TTL', { reason: (err as Error).message }));
          const report = await server.drain(graceMs);
          await nc.close();
          return report;
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const step of undo) await step().catch(() => {});
    throw err;
  }
}
