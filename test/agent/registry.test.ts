// The agent registry against the test stack's real NATS (JetStream KV): registration,
// listing, deregistration and TTL expiry of an agent that stops refreshing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { silentLogger } from '../../common/log.ts';
import { createRegistration, listAgents, listAgentsByStream, openAgentsBucket } from '../../node-agent/registry/index.ts';
import type { AgentSnapshot, Registration, RegistryEvent } from '../../node-agent/registry/index.ts';
import { testNats } from '../helpers/nats.ts';
import type { TestNats } from '../helpers/nats.ts';
import { waitFor } from './grpc-helpers.ts';

/** Short TTL so expiry is observable in a test; production uses 15 s. */
const TEST_TTL_MS = 2_000;
/** How late after the TTL the server may drop an expired entry (its expiry timer, our polling). */
const EXPIRY_SLACK_MS = 2_000;

const snapshot = (inFlight = 0): AgentSnapshot => ({
  address: '127.0.0.1:50051', tls: false, models: [{ name: 'arith-cot', sha256: 'ab'.repeat(32) }],
  capacity: { maxConcurrentGroups: 2, inFlight, maxBatch: 32 }, device: { executionProvider: 'cpu', description: 'test host' }, version: '0.0.0-test',
});

async function nextEvent(it: AsyncIterator<RegistryEvent>): Promise<RegistryEvent> {
  const r = await it.next();
  assert.equal(r.done, false, 'the event stream ended early');
  return r.value as RegistryEvent;
}

describe('the agent registry in NATS KV', () => {
  let nats: TestNats;
  let kv: KV;
  let bucket: string;
  const registrations: Registration[] = [];

  before(async () => {
    nats = await testNats();
    bucket = `agents_${nats.prefix.replace(/\W/g, '_')}_${randomBytes(2).toString('hex')}`;
    kv = await openAgentsBucket(nats.nc, { bucket, ttlMs: TEST_TTL_MS });
  });
  after(async () => {
    for (const r of registrations) await r.deregister();
    await kv.destroy();
    await nats.close();
  });

  const register = (agentId: string, opts: { inFlight?: () => number; refreshMs?: number } = {}) => {
    const r = createRegistration({ kv, agentId, snapshot: () => snapshot(opts.inFlight?.() ?? 0), log: silentLogger, ...(opts.refreshMs ? { refreshMs: opts.refreshMs } : {}) });
    registrations.push(r);
    return r;
  };

  it('lists a registered agent with its address, models and capacity', async () => {
    const reg = register('agent-a');
    const events = reg.events();
    const record = await reg.start();
    const first = await nextEvent(events);
    assert.equal(first.type, 'registered');
    const { agents, invalid } = await listAgents(kv);
    assert.deepEqual(invalid, []);
    const listed = agents.find((a) => a.agentId === 'agent-a');
    assert.deepEqual(listed, record);
    assert.equal(listed?.address, '127.0.0.1:50051');
    assert.deepEqual(listed?.models.map((m) => m.name), ['arith-cot']);
    assert.equal(listed?.capacity.maxConcurrentGroups, 2);
    await events.return?.();
  });

  it('rewrites the entry on refresh with the current in-flight count', async () => {
    let inFlight = 0;
    const reg = register('agent-b', { inFlight: () => inFlight, refreshMs: 60_000 });
    const events = reg.events();
    await reg.start();
    await nextEvent(events);
    inFlight = 2;
    await reg.refresh();
    const e = await nextEvent(events);
    assert.equal(e.type, 'refreshed');
    assert.equal(e.type === 'refreshed' && e.record.capacity.inFlight, 2);
    const listed = (await listAgents(kv)).agents.find((a) => a.agentId === 'agent-b');
    assert.equal(listed?.capacity.inFlight, 2);
    await events.return?.();
  });

  it('removes the entry on deregister and ends the event stream', async () => {
    const reg = register('agent-c');
    const events = reg.events();
    await reg.start();
    assert.ok((await listAgents(kv)).agents.some((a) => a.agentId === 'agent-c'));
    await reg.deregister();
    assert.ok(!(await listAgents(kv)).agents.some((a) => a.agentId === 'agent-c'));
    const seen: string[] = [];
    for await (const e of events) seen.push(e.type);
    assert.deepEqual(seen, ['registered', 'deregistered']);
    await reg.refresh();
    assert.ok(!(await listAgents(kv)).agents.some((a) => a.agentId === 'agent-c'), 'a refresh after deregister writes nothing');
  });

  it('expires an agent that stops refreshing within the TTL, while a refreshing one stays', async () => {
    const alive = register('agent-alive');
    const stale = register('agent-stale', { refreshMs: 60_000 });
    await alive.start();
    await stale.start();
    const t0 = Date.now();
    const ids = async () => (await listAgents(kv)).agents.map((a) => a.agentId);
    assert.ok((await ids()).includes('agent-stale'));
    const waited = await waitFor(async () => !(await ids()).includes('agent-stale'), TEST_TTL_MS + EXPIRY_SLACK_MS, 'the stale entry to expire', 100);
    assert.ok(Date.now() - t0 >= TEST_TTL_MS - 200, `expired after ${waited} ms, before its TTL`);
    await new Promise((r) => setTimeout(r, TEST_TTL_MS / 2));
    assert.ok((await ids()).includes('agent-alive'), 'the refreshing agent outlives the TTL');
    // The orchestrator's reader (keys from the stream info, no consumer) sees the same set.
    const byStream = (await listAgentsByStream(nats.nc, kv, bucket)).agents.map((a) => a.agentId);
    assert.deepEqual(byStream, await ids());
    assert.ok(!byStream.includes('agent-stale'));
  });
});
