// parseAgentOptions: defaults, where the token comes from, and flags validated at the edge.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFaithsweepError } from '../../common/errors.ts';
import { isValidAgentId } from '../registry/index.ts';
import { DEFAULT_MEMORY_BUDGET_MIB } from '../engine/budget.ts';
import { DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, DEFAULT_GRACE_MS, DEFAULT_MAX_GROUPS, generateAgentId, parseAgentOptions } from './agent-options.ts';

describe('parseAgentOptions', () => {
  let dir: string;
  const envToken = 'env-token-0123456789abcdef';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-agent-options-'));
    writeFileSync(join(dir, 'token'), '  file-token-0123456789abcdef\n');
    // The TLS files are checked as PEM when the options are read: a real pair, made with openssl.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** `token` null = FAITHSWEEP_AGENT_TOKEN unset. */
  const parse = (values: Record<string, unknown>, token: string | null = envToken) => parseAgentOptions({ values, envToken: token ?? undefined, defaultModelsDir: dir });
  const badArgs = (flag: string) => (err: unknown) => isFaithsweepError(err) && err.code === 'BAD_ARGS' && err.message.startsWith(`--${flag} `);

  it('fills in documented defaults, with the token from the environment', () => {
    const o = parse({});
    assert.equal(o.modelsDir, dir);
    assert.deepEqual([o.host, o.port, o.maxGroups, o.graceMs, o.device, o.threads, o.maxBatch, o.tls], [DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, DEFAULT_MAX_GROUPS, DEFAULT_GRACE_MS, 'cpu', 0, undefined, undefined]);
    assert.equal(o.token, envToken);
    assert.equal(o.bucket, 'faithsweep-agents');
    assert.ok(isValidAgentId(o.agentId), o.agentId);
    assert.ok(Object.isFrozen(o));
  });

  it('prefers --token-file over the environment and trims the file', () => {
    assert.equal(parse({ 'token-file': join(dir, 'token') }).token, 'file-token-0123456789abcdef');
  });

  it('refuses a missing or short token, naming --token-file', () => {
    assert.throws(() => parse({}, null), badArgs('token-file'));
    assert.throws(() => parse({}, 'short'), badArgs('token-file'));
    writeFileSync(join(dir, 'empty-token'), '\n');
    assert.throws(() => parse({ 'token-file': join(dir, 'empty-token') }), (err: unknown) => badArgs('token-file')(err) && /empty-token is empty/.test((err as Error).message));
    assert.throws(() => parse({ 'token-file': dir }), (err: unknown) => badArgs('token-file')(err) && /is a directory, not a file/.test((err as Error).message));
  });

  it('reads both TLS files and refuses one without the other', () => {
    const o = parse({ 'tls-cert': join(dir, 'cert.pem'), 'tls-key': join(dir, 'key.pem') });
    assert.match(o.tls?.cert.toString() ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.match(o.tls?.key.toString() ?? '', /^-----BEGIN PRIVATE KEY-----/);
    assert.throws(() => parse({ 'tls-key': join(dir, 'key.pem') }), badArgs('tls-cert'));
  });

  it('validates numbers, the device, the advertised address and the ids', () => {
    assert.equal(parse({ port: '0', 'max-batch': '16', 'registry-ttl-ms': '3000' }).registryTtlMs, 3000);
    assert.throws(() => parse({ port: '65536' }), badArgs('port'));
    assert.throws(() => parse({ 'max-batch': '0' }), badArgs('max-batch'));
    assert.throws(() => parse({ 'grace-ms': 'soon' }), badArgs('grace-ms'));
    assert.throws(() => parse({ device: 'tpu' }), badArgs('device'));
    assert.equal(parse({ advertise: 'gpu-7.internal:50051' }).advertise, 'gpu-7.internal:50051');
    assert.throws(() => parse({ advertise: 'no-port' }), badArgs('advertise'));
    assert.throws(() => parse({ 'agent-id': 'a b' }), badArgs('agent-id'));
    assert.throws(() => parse({ bucket: 'KV.x' }), badArgs('bucket'));
  });

  it('reads the device id, the CPU fallback and the memory budget (MiB), with documented defaults', () => {
    const d = parse({});
    assert.deepEqual([d.deviceId, d.allowCpuFallback, d.memoryBudgetBytes], [0, false, DEFAULT_MEMORY_BUDGET_MIB * 2 ** 20]);
    const o = parse({ device: 'cuda', 'device-id': '3', 'allow-cpu-fallback': true, 'memory-budget': '512' });
    assert.deepEqual([o.device, o.deviceId, o.allowCpuFallback, o.memoryBudgetBytes], ['cuda', 3, true, 512 * 2 ** 20]);
    assert.throws(() => parse({ 'device-id': '1' }), badArgs('device-id'), '--device-id needs --device cuda');
    assert.throws(() => parse({ device: 'cuda', 'device-id': 'one' }), badArgs('device-id'));
    assert.throws(() => parse({ 'memory-budget': '0' }), badArgs('memory-budget'));
  });

  it('generates distinct valid agent ids', () => {
    const a = generateAgentId();
    assert.ok(isValidAgentId(a));
    assert.notEqual(a, generateAgentId());
  });
});
