// The agent over TLS (--tls-cert/--tls-key): a client trusting the certificate gets through
// with the token; a plaintext client does not. Uses a throwaway self-signed certificate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { silentLogger } from '../../common/log.ts';
import { createAgentClient, createAgentServer, describeAgent } from '../../node-agent/server/index.ts';
import type { AgentGrpcServer } from '../../node-agent/server/index.ts';
import { createFakeEngine } from './fake-engine.ts';

const TOKEN = 'tls-test-token-0123456789';

describe('the agent server over TLS', () => {
  let dir: string;
  let cert: Buffer;
  let server: AgentGrpcServer;
  let address: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createAgentServer({
      engine: createFakeEngine(), agentId: 'agent-tls', version: '0.0.0-test', token: TOKEN, maxConcurrentGroups: 1, maxBatch: 8, log: silentLogger,
      device: { executionProvider: 'cpu', requestedProvider: 'cpu', description: 'test', intraOpThreads: 1 },
      tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });
  after(async () => {
    await server.drain(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a client that trusts its certificate and sends the token', async () => {
    const client = createAgentClient({ address, token: TOKEN, tls: { ca: cert, serverName: 'localhost' } });
    try {
      assert.equal((await describeAgent(client)).agentId, 'agent-tls');
    } finally {
      client.close();
    }
  });

  it('does not serve a plaintext client', async () => {
    const client = createAgentClient({ address, token: TOKEN });
    try {
      await assert.rejects(describeAgent(client, 2_000), (err: { code: number }) => err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED);
    } finally {
      client.close();
    }
  });
});
