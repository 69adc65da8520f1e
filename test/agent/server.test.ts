// The agent's gRPC plumbing — auth, capacity, cancellation, error mapping, health, drain —
// against a fake engine (inference is not what these tests are about; see agent-e2e.test.ts).
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { AgentClient, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { RunGroupRequest as RunGroupRequestFns } from '../../generated/proto/faithsweep/v1/agent.ts';
import { silentLogger } from '../../common/log.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import { HealthClient, ServingStatus, createAgentClient, createAgentServer, describeAgent, errorCodeOf } from '../../node-agent/server/index.ts';
import type { AgentGrpcServer, HealthCheckResponse } from '../../node-agent/server/index.ts';
import { createFakeEngine } from './fake-engine.ts';
import type { FakeEngine } from './fake-engine.ts';
import { collect, firstEvent, waitFor } from './grpc-helpers.ts';

const TOKEN = 'test-token-0123456789abcdef';
const request = (over: Partial<RunGroupRequest> = {}): RunGroupRequest =>
  RunGroupRequestFns.fromPartial({ model: 'fake-model', prompt: '1+2=', interventions: [{ key: 'a' }, { key: 'b' }], ...over });

describe('the agent gRPC server', () => {
  let engine: FakeEngine;
  let server: AgentGrpcServer;
  let address: string;
  const clients: { close(): void }[] = [];
  /** A client sending `token`; `null` sends none. */
  const client = (token: string | null = TOKEN): AgentClient => {
    const c = createAgentClient({ address, ...(token === null ? {} : { token }) });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    engine = createFakeEngine();
    server = createAgentServer({
      engine, agentId: 'agent-test', version: '0.0.0-test', token: TOKEN, maxConcurrentGroups: 1, maxBatch: 8, log: silentLogger,
      device: { executionProvider: 'cpu', requestedProvider: 'cpu', description: 'test', intraOpThreads: 1 },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const g of engine.groups) g.finish();
    await server.drain(0);
  });

  it('streams the engine events and then a done event to an authenticated caller', async () => {
    const stream = client().runGroup(request());
    (await engine.nextGroup()).finish();
    const { events, error } = await collect(stream);
    assert.equal(error, undefined);
    assert.deepEqual(events.map((e) => e.event?.$case), ['trajectory', 'result', 'result', 'done']);
    const done = events.at(-1)?.event;
    assert.equal(done?.$case === 'done' && done.value.forwardPasses, 3);
  });

  it('rejects a call without the token, or with a wrong one, as UNAUTHENTICATED without running anything', async () => {
    for (const c of [client(null), client('wrong-token-0123456789abcdef')]) {
      const { events, error } = await collect(c.runGroup(request()));
      assert.equal(error?.code, GrpcStatus.UNAUTHENTICATED);
      assert.equal(errorCodeOf(error), 'UNAUTHENTICATED');
      assert.equal(events.length, 0);
      await assert.rejects(describeAgent(c), (err: { code: number }) => err.code === GrpcStatus.UNAUTHENTICATED);
    }
    assert.equal(engine.groups.length, 0);
  });

  it('answers RESOURCE_EXHAUSTED at once for a group past the concurrency limit', async () => {
    const first = client().runGroup(request());
    await engine.nextGroup();
    const t0 = Date.now();
    const second = await collect(client().runGroup(request()));
    assert.equal(second.error?.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(errorCodeOf(second.error), 'AGENT_BUSY');
    assert.ok(Date.now() - t0 < 1000, 'refused without queueing');
    assert.equal((await describeAgent(client())).capacity?.inFlight, 1);
    engine.groups[0]?.finish();
    assert.equal((await collect(first)).error, undefined);
    assert.equal((await describeAgent(client())).capacity?.inFlight, 0);
  });

  it('aborts the engine signal when the client cancels, and frees the slot', async () => {
    const stream = client().runGroup(request());
    const ended = collect(stream);
    await firstEvent(stream);
    const group = await waitFor(() => engine.groups.length === 1, 2000, 'the group').then(() => engine.groups[0]!);
    assert.equal(group.signal.aborted, false);
    stream.cancel();
    await waitFor(() => group.signal.aborted, 2000, 'the engine signal to abort');
    assert.equal((await ended).error?.code, GrpcStatus.CANCELLED);
    await waitFor(() => server.inFlight === 0, 2000, 'the slot to be released');
  });

  it('aborts the engine signal when the call deadline passes', async () => {
    const stream = client().runGroup(request(), { deadline: Date.now() + 300 });
    const group = await engine.nextGroup();
    const { error } = await collect(stream);
    assert.equal(error?.code, GrpcStatus.DEADLINE_EXCEEDED);
    await waitFor(() => group.signal.aborted, 2000, 'the engine signal to abort');
  });

  it('maps engine errors to gRPC statuses with the agent code in the trailers', async () => {
    const missing = await collect(client().runGroup(request({ model: 'no-such-model' })));
    assert.equal(missing.error?.code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(errorCodeOf(missing.error), 'MODEL_NOT_FOUND');
    const cases = [
      { err: new AgentError(AgentErrorCode.BAD_INTERVENTION, 'step 99 is out of range'), code: GrpcStatus.INVALID_ARGUMENT, agentCode: 'BAD_INTERVENTION' },
      { err: new Error('onnxruntime exploded'), code: GrpcStatus.INTERNAL, agentCode: 'INTERNAL' },
    ];
    for (const c of cases) {
      const stream = client().runGroup(request());
      (await engine.nextGroup()).fail(c.err);
      const { error } = await collect(stream);
      assert.equal(error?.code, c.code);
      assert.equal(errorCodeOf(error), c.agentCode);
      assert.match(error?.details ?? '', new RegExp(c.err.message));
    }
  });

  it('answers SERVING on the open health service (Check and Watch), and NOT_SERVING once draining', async () => {
    const health = new HealthClient(address, credentials.createInsecure());
    clients.push(health);
    const check = (service: string) =>
      new Promise<HealthCheckResponse>((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res))));
    assert.equal((await check('')).status, ServingStatus.SERVING);
    assert.equal((await check('faithsweep.v1.Agent')).status, ServingStatus.SERVING);
    await assert.rejects(check('no.such.Service'), (err: { code: number }) => err.code === GrpcStatus.NOT_FOUND);
    const watched: number[] = [];
    const watch = health.watch({ service: '' });
    watch.on('data', (r: HealthCheckResponse) => watched.push(r.status));
    watch.on('error', () => {});
    await waitFor(() => watched.length === 1, 2000, 'the first Watch answer');
    const running = client().runGroup(request());
    const group = await engine.nextGroup();
    const drained = server.drain(5000);
    assert.equal((await check('')).status, ServingStatus.NOT_SERVING);
    await waitFor(() => watched.length === 2, 2000, 'Watch to report the change');
    assert.deepEqual(watched, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    group.finish();
    assert.equal((await collect(running)).error, undefined);
    assert.deepEqual(await drained, { aborted: 0, idle: true });
  });

  it('refuses new groups while draining and aborts the ones left at the end of the grace period', async () => {
    const running = collect(client().runGroup(request()));
    const group = await engine.nextGroup();
    const drained = server.drain(300);
    const refused = await collect(client().runGroup(request()));
    assert.equal(refused.error?.code, GrpcStatus.UNAVAILABLE);
    assert.equal(errorCodeOf(refused.error), 'AGENT_DRAINING');
    const { error } = await running;
    assert.equal(error?.code, GrpcStatus.UNAVAILABLE);
    assert.equal(errorCodeOf(error), 'AGENT_DRAINING');
    assert.equal(group.signal.aborted, true);
    assert.deepEqual(await drained, { aborted: 1, idle: true });
  });
});
