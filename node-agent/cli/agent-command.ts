/**
 * `faithsweep agent`: runs a node agent — loads the models, serves `faithsweep.v1.Agent`
 * over gRPC, registers in the NATS KV registry — until SIGTERM/SIGINT, then deregisters,
 * drains within the grace period and exits 0. The agent's modules load lazily so that the
 * rest of the CLI does not pay for onnxruntime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { command } from '../../common/cli/command.ts';
import type { Command } from '../../common/cli/command.ts';
import type { CliContext } from '../../common/cli/context.ts';
import { FaithsweepError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { connectNats } from '../../common/nats/connect.ts';
import { isAgentError } from '../../common/agent-errors.ts';

/** Exit code when a second signal forces exit before the drain finished (128 + SIGINT). */
const FORCED_EXIT_CODE = 130;

/**
 * What the agent command needs from outside the agent, given by the composition root
 * (bin/main.ts), so that node-agent/ does not import the orchestrator's local stack.
 */
export interface AgentCommandDeps {
  /**
   * The NATS URL of the local stack (`faithsweep dev up`), used when neither --nats nor
   * NATS_URL is given. Throws SERVICE_UNAVAILABLE when there is no local stack.
   */
  localNatsUrl(ctx: CliContext): Promise<string>;
}

/** Agent errors (MODEL_NOT_FOUND, MODEL_INVALID, …) surface as coded CLI errors. */
function asCliError(err: unknown): unknown {
  if (!isAgentError(err)) return err;
  const hint = err.code === 'DEVICE_UNAVAILABLE' ? 'see docs/gpu.md, or run with --device cpu / --allow-cpu-fallback'
    : err.code === 'MEMORY_BUDGET' ? 'export the model with fused top-k outputs, or raise --memory-budget'
    : 'check --models';
  return new FaithsweepError(err.code, err.message, { hint, cause: err });
}

/** The `agent` command; `deps` come from the composition root. */
export function createAgentCommand(deps: AgentCommandDeps): Command {
  return command({
    name: 'agent',
    summary: 'Run a node agent: serve the models over gRPC and register in NATS until SIGTERM/SIGINT',
    options: {
      models: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, advertise: { type: 'string' }, nats: { type: 'string' },
      device: { type: 'string' }, 'device-id': { type: 'string' }, 'allow-cpu-fallback': { type: 'boolean' }, 'memory-budget': { type: 'string' }, threads: { type: 'string' }, 'max-batch': { type: 'string' }, 'max-groups': { type: 'string' },
      'token-file': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-client-ca': { type: 'string' }, 'insecure-plaintext': { type: 'boolean' }, 'agent-id': { type: 'string' },
      bucket: { type: 'string' }, 'registry-ttl-ms': { type: 'string' }, 'grace-ms': { type: 'string' },
      'paraphrase-command': { type: 'string', multiple: true },
    },
    details: [
      '  --models DIR          a model directory or a folder of them (default: <repo>/models, FAITHSWEEP_MODELS)',
      '  --port N              gRPC port, 0 = any free port (default 50051)',
      '  --host ADDR           interface to bind (default 127.0.0.1; 0.0.0.0 for every interface)',
      '  --advertise HOST:PORT address published in the registry (default: host and bound port; the host name when bound to 0.0.0.0)',
      '  --nats URL            NATS server (default: NATS_URL, else the local stack)',
      '  --device cpu|cuda|webgpu  execution provider (default cpu); one that cannot be loaded is a DEVICE_UNAVAILABLE error naming what is missing (docs/gpu.md)',
      '  --device-id N         GPU ordinal for --device cuda (default 0); run one agent per GPU (docs/deploy.md)',
      '  --allow-cpu-fallback  use the CPU, with a warning, when --device cannot be loaded (default: refuse)',
      '  --memory-budget MiB   host memory one forward pass\'s outputs may take (default 2048); sets the batch, and a full-logit model one row of which does not fit is refused (MEMORY_BUDGET)',
      "  --threads N           onnxruntime intra-op threads (default 0 = onnxruntime's choice)",
      '  --max-batch N         most branches per batched forward pass (default 64); the memory budget may allow fewer',
      '  --max-groups N        groups run at once; more get RESOURCE_EXHAUSTED (default 1)',
      '  --token-file F        file holding the shared token (default: FAITHSWEEP_AGENT_TOKEN); at least 16 characters',
      '  --tls-cert F --tls-key F  serve TLS with this PEM certificate chain and key (default plaintext)',
      '  --tls-client-ca F     mutual TLS: accept only clients with a certificate signed by this PEM CA bundle',
      '  --insecure-plaintext  allow plaintext on a non-loopback --host (refused otherwise: the token would travel in clear)',
      '  --agent-id ID         registry key (default <host>-<random>)',
      '  --bucket NAME         NATS KV bucket of the registry (default faithsweep-agents)',
      '  --registry-ttl-ms N   registry entry TTL when this agent creates the bucket (default 15000; refresh every TTL/3)',
      '  --grace-ms N          on SIGTERM/SIGINT, time in-flight groups get before they are cancelled (default 10000)',
      "  --paraphrase-command NAME=COMMAND  an external paraphraser a spec may name as cmd:NAME (repeatable): text on",
      '                        stdin, rewrite on stdout (docs/paraphrase.md); COMMAND is split on spaces, no shell',
      '',
      'Prints one line (or a JSON object with --json) with the address and agent id once serving; logs go to stderr.',
    ],
    async run(ctx, { values }) {
      const { parseAgentOptions } = await import('./agent-options.ts');
      const opts = parseAgentOptions({ values, envToken: ctx.agentToken, defaultModelsDir: ctx.paths.modelsDir });
      const natsUrl = opts.natsUrl ?? ctx.external.natsUrl ?? (await deps.localNatsUrl(ctx));
      const log = createLogger({ json: ctx.json, write: ctx.err, bindings: { agentId: opts.agentId } });
      const version = (JSON.parse(readFileSync(join(ctx.paths.repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
      const { startAgent } = await import('./start-agent.ts');
      const agent = await startAgent(opts, { log, version, natsUrl, connectNats: (url) => connectNats({ url, name: `faithsweep-agent-${opts.agentId}`, reconnectForever: true }) }).catch((err: unknown) => {
        throw asCliError(err);
      });
      const models = agent.record.models.map((m) => m.name);
      if (ctx.json) ctx.out(JSON.stringify({ agentId: agent.agentId, address: agent.address, port: agent.port, tls: Boolean(opts.tls), bucket: opts.bucket, models, device: agent.record.device }));
      else ctx.out(`agent ${agent.agentId} serving on ${agent.address}${opts.tls ? ' (TLS)' : ''}: models ${models.join(', ')}; device ${agent.record.device.executionProvider}; registry ${opts.bucket} at ${natsUrl}`);

      const why = await Promise.race([
        new Promise<{ signal: NodeJS.Signals }>((resolve) => {
          process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
          process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
        }),
        agent.connectionLost.then((error) => ({ error })),
      ]);
      const force = () => {
        log.error('second signal: exiting without finishing the drain');
        process.exit(FORCED_EXIT_CODE);
      };
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      if ('error' in why) log.error('lost the NATS connection: the agent cannot stay registered, shutting down', { reason: why.error.message });
      else log.info('shutting down', { signal: why.signal, graceMs: opts.graceMs, inFlight: agent.server.inFlight });
      const report = await agent.stop(opts.graceMs);
      log.info('stopped', { aborted: report.aborted, idle: report.idle });
      // Losing NATS is a failure a supervisor should see (and restart); a signal is a clean stop.
      return 'error' in why ? 1 : 0;
    },
  });
}
