/** `faithsweep worker`: the Temporal worker that runs the sweep workflows and activities. */
import { readFileSync } from 'node:fs';
import { command } from '../../../common/cli/command.ts';
import { parseIntFlag } from '../../../common/cli/int-flag.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { createLogger } from '../../../common/log.ts';
import { installTemporalRuntime } from '../../worker/create-worker.ts';
import { startSweepWorker } from '../../worker/start-worker.ts';
import { agentToken, checkSchema, DEFAULT_TASK_QUEUE } from './services.ts';
import { endpointsFromContext } from './endpoints.ts';
import { checkTlsFiles } from '../../../common/grpc/tls-files.ts';

export const workerCommand = command({
  name: 'worker',
  summary: 'Run a Temporal worker for sweeps (workflows + activities) until SIGTERM/SIGINT',
  options: { 'task-queue': { type: 'string' }, 'token-file': { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, bucket: { type: 'string' }, 'max-activities': { type: 'string' }, 'stall-ms': { type: 'string' }, 'call-ms': { type: 'string' } },
  details: [
    '  --task-queue Q       task queue to poll (default faithsweep)',
    "  --token-file F       the agents' shared token (default: FAITHSWEEP_AGENT_TOKEN, else .faithsweep/agent-token)",
    '  --tls-ca F           PEM CA bundle that signed the TLS agents\' certificates (default: the system roots)',
    '  --tls-cert F --tls-key F  this worker\'s PEM certificate and key, for agents run with --tls-client-ca (mutual TLS)',
    '  --bucket NAME        NATS KV bucket of the agent registry (default faithsweep-agents)',
    '  --max-activities N   work units run at once by this worker (default 200)',
    '  --stall-ms N         cancel and retry elsewhere an agent call that sends nothing for N ms (default 60000)',
    '  --call-ms N          longest one agent call may run, in ms (default 120000); a work unit with more',
    '                       cells is split across calls, its results kept and its clean run computed once',
    'Services: DATABASE_URL, NATS_URL and TEMPORAL_ADDRESS, else the local stack (faithsweep dev up).',
    'Prints one line (a JSON object with --json) once polling; logs go to stderr.',
  ],
  async run(ctx, { values }) {
    const max = parseIntFlag('max-activities', values['max-activities'], { min: 1, max: 10_000 });
    const stallMs = parseIntFlag('stall-ms', values['stall-ms'], { min: 1000 });
    const callMs = parseIntFlag('call-ms', values['call-ms'], { min: 1000 });
    const token = agentToken(ctx, values['token-file'] as string | undefined, true);
    const certFlag = values['tls-cert'] as string | undefined;
    const keyFlag = values['tls-key'] as string | undefined;
    if ((certFlag === undefined) !== (keyFlag === undefined)) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${certFlag === undefined ? 'tls-cert' : 'tls-key'} is required when the other TLS flag is given`);
    }
    const pem = (flag: string, path: string | undefined): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${flag} ${path}: ${(err as Error).message}`, { hint: 'give a readable PEM file' });
      }
    };
    const caFlag = values['tls-ca'] as string | undefined;
    const agentTls = { ca: pem('tls-ca', caFlag), cert: pem('tls-cert', certFlag), key: pem('tls-key', keyFlag) };
    checkTlsFiles({ ...(agentTls.ca ? { ca: agentTls.ca } : {}), ...(agentTls.cert ? { cert: agentTls.cert } : {}), ...(agentTls.key ? { key: agentTls.key } : {}) },
      { cert: 'tls-cert', key: 'tls-key', ca: 'tls-ca' }, { ...(caFlag ? { ca: caFlag } : {}), ...(certFlag ? { cert: certFlag } : {}), ...(keyFlag ? { key: keyFlag } : {}) });
    const e = await endpointsFromContext(ctx);
    await checkSchema(ctx, e.databaseUrl);
    const log = createLogger({ json: ctx.json, write: ctx.err, bindings: { component: 'worker' } });
    installTemporalRuntime('WARN');
    const taskQueue = (values['task-queue'] as string | undefined) ?? DEFAULT_TASK_QUEUE;
    const w = await startSweepWorker({
      databaseUrl: e.databaseUrl, natsUrl: e.natsUrl, temporalAddress: e.temporalAddress, taskQueue, token, log,
      ...(values['bucket'] ? { bucket: values['bucket'] as string } : {}),
      ...(max ? { maxConcurrentActivities: max } : {}),
      ...(stallMs || callMs ? { sweep: { ...(stallMs ? { stallMs } : {}), ...(callMs ? { callMs } : {}) } } : {}),
      agentTls: { ...(agentTls.ca ? { ca: agentTls.ca } : {}), ...(agentTls.cert ? { cert: agentTls.cert } : {}), ...(agentTls.key ? { key: agentTls.key } : {}) },
    });
    const stop = (): void => {
      log.info('shutting down: finishing in-flight tasks');
      w.worker.shutdown();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    if (ctx.json) ctx.out(JSON.stringify({ taskQueue, temporal: e.temporalAddress, pid: process.pid }));
    else ctx.out(`worker polling task queue '${taskQueue}' on ${e.temporalAddress} (pid ${process.pid})`);
    try {
      await w.worker.run();
    } finally {
      await w.close();
    }
    return 0;
  },
});
