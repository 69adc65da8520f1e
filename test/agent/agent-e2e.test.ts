// THE agent acceptance test: two real `faithsweep agent` processes on the trained models,
// found in the real NATS registry, running real groups over gRPC; a cancelled group stops
// its compute; SIGTERM deregisters and exits 0; a SIGKILLed agent's entry expires.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KV } from '@nats-io/kv';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { AgentClient, RunGroupEvent } from '../../generated/proto/faithsweep/v1/agent.ts';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { listAgents, openAgentsBucket } from '../../node-agent/registry/index.ts';
import { createAgentClient, describeAgent } from '../../node-agent/server/index.ts';
import { testNats } from '../helpers/nats.ts';
import type { TestNats } from '../helpers/nats.ts';
import type { AgentAnnouncement, AgentProcess } from './agent-process.ts';
import { spawnAgent } from './agent-process.ts';
import { collect, waitFor } from './grpc-helpers.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;
const MODEL = 'arith-cot';

/** Short registry TTL so the SIGKILL expiry is observable; production uses 15 s. */
const TTL_MS = 3_000;
/** Server-side expiry timer plus our polling. */
const EXPIRY_SLACK_MS = 3_000;
/** Model loading (sha256 check, session creation) on a loaded two-core machine. */
const START_TIMEOUT_MS = 120_000;
/** A cancelled group must free its slot within this: the engine checks the signal every step. */
const CANCEL_STOP_MS = 3_000;
const GRACE_MS = 5_000;
const TOKEN = `e2e-${randomBytes(12).toString('hex')}`;

const smallGroup = () =>
  RunGroupRequest.fromPartial({
    model: MODEL, prompt: '0347+1285=', seed: 7, goldAnswer: '1632', // the card's prompt_format pads operands to 4 digits
    interventions: [
      { key: 'remask-ans0@10', kind: InterventionKind.REMASK, step: 10, position: 28 },
      { key: 'replace-cot0@5', kind: InterventionKind.REPLACE, variant: ReplaceVariant.RANDOM_TOKEN, step: 5, position: 0 },
      { key: 'second-cot8@20', kind: InterventionKind.REPLACE, variant: ReplaceVariant.SECOND_CHOICE, step: 20, position: 8 },
      { key: 'probe@15', kind: InterventionKind.PROBE, step: 15 },
    ],
  });

/** Remask every position at every step, skipping off: thousands of branch-steps, seconds of compute. */
const bigGroup = (steps: number, genLength: number) =>
  RunGroupRequest.fromPartial({
    model: MODEL, prompt: '8765+4321=', seed: 3, disableSkip: true,
    interventions: Array.from({ length: steps * genLength }, (_, i) => ({ key: `r${i}`, kind: InterventionKind.REMASK, step: Math.floor(i / genLength), position: i % genLength })),
  });

describe('two real agent processes on the trained models', () => {
  let nats: TestNats;
  let kv: KV;
  let dir: string;
  let bucket: string;
  const procs: AgentProcess[] = [];
  const seen: AgentAnnouncement[] = [];
  const clients: AgentClient[] = [];

  before(async () => {
    requirePrerequisites('the agent end-to-end suite', [MODEL], [join(REPO_ROOT, 'node-agent', 'engine', 'index.ts')]);
    nats = await testNats();
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-agent-e2e-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN + '\n');
    bucket = `agents_${randomBytes(4).toString('hex')}`;
    for (const name of ['a', 'b']) {
      procs.push(spawnAgent(['--models', MODELS_DIR, '--port', '0', '--nats', nats.url, '--bucket', bucket, '--token-file', tokenFile,
        '--registry-ttl-ms', String(TTL_MS), '--agent-id', `e2e-${name}-${randomBytes(3).toString('hex')}`, '--threads', '1', '--max-groups', '1', '--grace-ms', String(GRACE_MS)], {}, START_TIMEOUT_MS));
    }
    seen.push(...(await Promise.all(procs.map((p) => p.ready))));
    for (const a of seen) clients.push(createAgentClient({ address: a.address, token: TOKEN }));
    kv = await openAgentsBucket(nats.nc, { bucket, ttlMs: TTL_MS });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await kv?.destroy();
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds both agents in the NATS registry, on distinct ports, with the model loaded', async () => {
    assert.notEqual(seen[0]?.port, seen[1]?.port);
    const { agents } = await listAgents(kv);
    for (const a of seen) {
      const rec = agents.find((r) => r.agentId === a.agentId);
      assert.ok(rec, `${a.agentId} is registered`);
      assert.equal(rec.address, `127.0.0.1:${a.port}`);
      assert.ok(rec.models.some((m) => m.name === MODEL && /^[0-9a-f]{64}$/.test(m.sha256)));
      assert.deepEqual({ max: rec.capacity.maxConcurrentGroups, inFlight: rec.capacity.inFlight }, { max: 1, inFlight: 0 });
      const d = await describeAgent(clients[seen.indexOf(a)]!);
      assert.equal(d.agentId, a.agentId);
      assert.equal(d.device?.executionProvider, 'cpu');
    }
  });

  it('runs a group on each agent: the clean trajectory, one result per intervention, then the summary', async () => {
    for (const client of clients) {
      const req = smallGroup();
      const { events, error } = await collect(client.runGroup(req, { deadline: Date.now() + 60_000 }));
      assert.equal(error, undefined, error?.details);
      const cases = events.map((e) => e.event?.$case);
      assert.equal(cases[0], 'trajectory');
      assert.equal(cases.at(-1), 'done');
      assert.equal(cases.filter((c) => c === 'result').length, req.interventions.length);
      const t = events[0]?.event?.$case === 'trajectory' ? events[0].event.value : assert.fail('no trajectory');
      assert.equal(t.tokens.length, t.commitStep.length);
      assert.ok(t.tokens.length > 0 && t.computeSteps > 0);
      assert.ok(t.text.length > 0, 'the clean response decodes to text');
      assert.deepEqual([t.answer, t.correct], ['1632', true], 'the trained model answers this sum correctly');
      const keys = events.flatMap((e) => (e.event?.$case === 'result' ? [e.event.value.key] : [])).sort();
      assert.deepEqual(keys, req.interventions.map((i) => i.key).sort());
      const done = events.at(-1)?.event;
      assert.ok(done?.$case === 'done' && done.value.forwardPasses >= t.computeSteps);
    }
  });

  it('stops a group cancelled mid-stream: its slot frees at once, in Describe and in the registry', async () => {
    const [client] = clients;
    const card = JSON.parse((await describeAgent(client!)).models.find((m) => m.name === MODEL)!.cardJson) as { defaults: { steps: number; gen_length: number } };
    const req = bigGroup(card.defaults.steps, card.defaults.gen_length);
    const stream = client!.runGroup(req);
    const events: RunGroupEvent[] = [];
    stream.on('data', (e: RunGroupEvent) => events.push(e));
    const ended = new Promise((resolve) => stream.on('error', resolve).on('end', resolve));
    await waitFor(() => events.length > 0, 60_000, 'the clean trajectory');
    assert.equal((await describeAgent(client!)).capacity?.inFlight, 1, 'the group is running');
    stream.cancel();
    const atCancel = events.length;
    assert.ok(atCancel < req.interventions.length + 2, 'the group had not finished when cancelled');
    const freedAfter = await waitFor(async () => (await describeAgent(client!)).capacity?.inFlight === 0, CANCEL_STOP_MS, 'the agent to free the slot');
    const id = seen[0]!.agentId;
    await waitFor(async () => (await listAgents(kv)).agents.find((a) => a.agentId === id)?.capacity.inFlight === 0, CANCEL_STOP_MS, 'the registry to show 0 in flight');
    await ended;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.length, atCancel, 'no event arrived after the cancel');
    assert.match(procs[0]!.stderr(), /"msg":"group failed".*"code":"CANCELLED"/, 'the engine stopped with CANCELLED');
    assert.ok(freedAfter < CANCEL_STOP_MS);
    const again = await collect(client!.runGroup(smallGroup(), { deadline: Date.now() + 60_000 }));
    assert.equal(again.error, undefined, 'the freed slot takes the next group');
  });

  it('deregisters and exits 0 on SIGTERM', async () => {
    const [a] = procs;
    a!.child.kill('SIGTERM');
    const exit = await Promise.race([a!.exited, new Promise((_, reject) => setTimeout(() => reject(new Error('no exit after SIGTERM')), GRACE_MS + 15_000))]);
    assert.deepEqual(exit, { code: 0, signal: null }, a!.stderr());
    const { agents } = await listAgents(kv);
    assert.ok(!agents.some((r) => r.agentId === seen[0]!.agentId), 'its entry is gone at once');
    assert.ok(agents.some((r) => r.agentId === seen[1]!.agentId), 'the other agent is still registered');
  });

  it('drops a SIGKILLed agent from the registry within the TTL', async () => {
    const b = procs[1]!;
    b.child.kill('SIGKILL');
    assert.equal((await b.exited).signal, 'SIGKILL');
    const id = seen[1]!.agentId;
    const waited = await waitFor(async () => !(await listAgents(kv)).agents.some((r) => r.agentId === id), TTL_MS + EXPIRY_SLACK_MS, 'the entry to expire', 100);
    assert.ok(waited <= TTL_MS + EXPIRY_SLACK_MS);
  });
});
