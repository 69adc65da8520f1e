// An agent reachable from the network must not leak its token: on a non-loopback address it
// refuses to start without TLS (the CLI's flags: BAD_ARGS naming --host, before any model is
// loaded; the server itself: INSECURE_LISTEN, nothing bound) unless --insecure-plaintext says
// the network is trusted. With --tls-client-ca the agent runs mutual TLS: only a client with a
// certificate signed by that CA gets through (and it still needs the token). Throwaway
// certificates made with openssl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { parseAgentOptions } from '../../node-agent/cli/agent-options.ts';
import { AgentError } from '../../common/agent-errors.ts';
import { createAgentClient, createAgentServer, describeAgent, isLoopback } from '../../node-agent/server/index.ts';
import type { AgentServerOptions } from '../../node-agent/server/index.ts';
import { isFaithsweepError } from '../../common/errors.ts';
import { silentLogger } from '../../common/log.ts';
import { createFakeEngine } from './fake-engine.ts';
import { REPO_ROOT } from '../../common/config/paths.ts';

const TOKEN = 'secure-listen-token-0123456789';

describe('agents on the network', () => {
  let dir: string;
  const pem = (name: string) => readFileSync(join(dir, name));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const server = (extra: Partial<AgentServerOptions>) => createAgentServer({
    engine: createFakeEngine(), agentId: 'agent-net', version: '0.0.0-test', token: TOKEN, maxConcurrentGroups: 1, maxBatch: 8, log: silentLogger,
    device: { executionProvider: 'cpu', requestedProvider: 'cpu', description: 'test', intraOpThreads: 1 }, ...extra,
  });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-mtls-'));
    // A CA; the agent's certificate (localhost, 127.0.0.1) and the worker's, both signed by it.
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=faithsweep test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    for (const who of ['agent', 'worker']) {
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who === 'agent' ? 'localhost' : 'faithsweep-worker'}`, '-keyout', `${who}.key`, '-out', `${who}.csr`);
      openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${who}.pem`, ...(who === 'agent' ? ['-extfile', 'san.ext'] : []));
    }
    // A client certificate from another CA (self-signed).
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=stranger', '-keyout', 'stranger.key', '-out', 'stranger.pem');
    writeFileSync(join(dir, 'token'), TOKEN);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.2', '192.168.1.5', 'gpu-node-3', '128.0.0.1']) assert.ok(!isLoopback(h), h);
  });

  it('the agent CLI refuses a non-loopback --host without TLS, naming --host (BAD_ARGS)', () => {
    const parse = (values: Record<string, unknown>) => parseAgentOptions({ values: { 'token-file': join(dir, 'token'), ...values }, envToken: undefined, defaultModelsDir: dir });
    assert.throws(() => parse({ host: '0.0.0.0' }), (err: unknown) => isFaithsweepError(err) && err.code === 'BAD_ARGS' && /^--host 0\.0\.0\.0 is not a loopback address and no TLS is given/.test(err.message));
    assert.equal(parse({ host: '0.0.0.0', 'tls-cert': join(dir, 'agent.pem'), 'tls-key': join(dir, 'agent.key') }).host, '0.0.0.0');
    assert.equal(parse({ host: '0.0.0.0', 'insecure-plaintext': true }).insecurePlaintext, true);
    assert.equal(parse({ host: '127.0.0.1' }).tls, undefined);
    assert.throws(() => parse({ 'tls-client-ca': join(dir, 'ca.pem') }), (err: unknown) => isFaithsweepError(err) && err.message.startsWith('--tls-client-ca '));
    assert.ok(parse({ host: '0.0.0.0', 'tls-cert': join(dir, 'agent.pem'), 'tls-key': join(dir, 'agent.key'), 'tls-client-ca': join(dir, 'ca.pem') }).tls?.clientCa);
  });

  it('the agent and worker CLIs refuse TLS files that are not what their flag needs, naming the flag (BAD_ARGS) before anything starts', () => {
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    writeFileSync(join(dir, 'short-token'), 'short\n');
    const tls = { host: '0.0.0.0', 'tls-cert': join(dir, 'agent.pem'), 'tls-key': join(dir, 'agent.key') };
    const parse = (values: Record<string, unknown>) => parseAgentOptions({ values: { 'token-file': join(dir, 'token'), ...values }, envToken: undefined, defaultModelsDir: dir });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...tls, 'tls-client-ca': join(dir, 'junk.pem') }, /^--tls-client-ca \S+junk\.pem holds no PEM certificate/],
      [{ ...tls, 'tls-cert': join(dir, 'junk.pem') }, /^--tls-cert \S+junk\.pem is not a PEM certificate/],
      [{ ...tls, 'tls-key': join(dir, 'junk.pem') }, /^--tls-key \S+junk\.pem is not a PEM private key/],
      [{ ...tls, 'tls-key': join(dir, 'worker.key') }, /^--tls-key \S+worker\.key does not hold the private key of --tls-cert/],
    ];
    for (const [values, message] of cases) {
      assert.throws(() => parse(values), (err: unknown) => isFaithsweepError(err) && err.code === 'BAD_ARGS' && message.test(err.message), String(message));
    }
    // The worker: the same checks on --tls-ca, --tls-cert and --tls-key, before it connects to anything.
    const worker = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'worker', '--token-file', join(dir, 'token'), ...args], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', FAITHSWEEP_DEBUG: '' },
    });
    for (const [args, message] of [
      [['--tls-ca', join(dir, 'junk.pem')], /^error\[BAD_ARGS\]: --tls-ca \S+junk\.pem holds no PEM certificate/m],
      [['--tls-cert', join(dir, 'worker.pem'), '--tls-key', join(dir, 'agent.key')], /^error\[BAD_ARGS\]: --tls-key \S+agent\.key does not hold the private key of --tls-cert/m],
      // The agents refuse a short token: the worker refuses it too, before it starts.
      [['--token-file', join(dir, 'short-token')], /^error\[BAD_ARGS\]: --token-file \S+short-token: the agent token must be at least 16 characters \(got 5\)/m],
    ] as [string[], RegExp][]) {
      const r = worker(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it('the server refuses to listen on a non-loopback address without TLS (INSECURE_LISTEN) and binds nothing', async () => {
    const s = server({});
    await assert.rejects(s.listen('0.0.0.0', 0), (err: unknown) => err instanceof AgentError && err.code === 'INSECURE_LISTEN' && /without TLS/.test(err.message));
    await s.drain(0);
    const open = server({ insecurePlaintext: true });
    const port = await open.listen('0.0.0.0', 0);
    const client = createAgentClient({ address: `127.0.0.1:${port}`, token: TOKEN });
    try {
      assert.equal((await describeAgent(client)).agentId, 'agent-net', '--insecure-plaintext serves');
    } finally {
      client.close();
      await open.drain(0);
    }
  });

  it('mutual TLS: serves a client with a certificate from the CA, refuses one without or from another CA', async () => {
    const s = server({ tls: { cert: pem('agent.pem'), key: pem('agent.key'), clientCa: pem('ca.pem') } });
    const port = await s.listen('0.0.0.0', 0);
    const address = `127.0.0.1:${port}`;
    const call = async (tls: Parameters<typeof createAgentClient>[0]['tls'], token = TOKEN) => {
      const client = createAgentClient({ address, token, ...(tls ? { tls } : {}) });
      try {
        return (await describeAgent(client, 3_000)).agentId;
      } finally {
        client.close();
      }
    };
    const refused = (err: { code: number }) => err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED;
    try {
      assert.equal(await call({ ca: pem('ca.pem'), serverName: 'localhost', cert: pem('worker.pem'), key: pem('worker.key') }), 'agent-net');
      await assert.rejects(call({ ca: pem('ca.pem'), serverName: 'localhost' }), refused, 'no client certificate');
      await assert.rejects(call({ ca: pem('ca.pem'), serverName: 'localhost', cert: pem('stranger.pem'), key: pem('stranger.key') }), refused, 'a certificate from another CA');
      await assert.rejects(call(undefined), refused, 'plaintext');
      await assert.rejects(call({ ca: pem('ca.pem'), serverName: 'localhost', cert: pem('worker.pem'), key: pem('worker.key') }, 'wrong-token-0123456789abc'),
        (err: { code: number }) => err.code === GrpcStatus.UNAUTHENTICATED, 'the token is still needed');
    } finally {
      await s.drain(0);
    }
  });
});
