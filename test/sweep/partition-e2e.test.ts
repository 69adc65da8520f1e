// An agent on another host, cut off by the network mid-stream and then reconnected: the
// remote agent runs in a network namespace of its own (test/helpers/netns.ts), serving TLS
// on the link's address and reaching NATS through it; the local agent, the worker,
// PostgreSQL, NATS and Temporal are on this host, all real. The link is taken down while
// the remote agent streams a work unit; that unit must move to the local agent while the
// link is down, the remote agent must come back into the registry once the link is up again
// and run a second sweep (and whatever the first has left) when the local agent dies, and the
// cell rows of both must equal their plans. The worker runs with its default stall timeout (60 s), so what notices the dead
// link first is the channel's keepalive (docs/deploy.md, "When an agent's host is cut off").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { listAgentsByStream } from '../../node-agent/registry/index.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import { createNetns } from '../helpers/netns.ts';
import type { Netns } from '../helpers/netns.ts';
import type { AgentProcess } from '../agent/agent-process.ts';
import type { Cluster } from './cluster.ts';
import { compareWithPlan, organismsDir, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

/** The worker's default stall timeout (orchestrator/activities/sweep.ts): the test must not lower it. */
const DEFAULT_STALL_MS = 60_000;
/** The call to the cut-off agent must fail (keepalive: 10 s + 20 s) well before the stall timeout would cancel it. */
const NOTICE_WITHIN_MS = 45_000;
/** The agent must be back in the registry this soon after the link returns. */
const REREGISTER_WITHIN_MS = 20_000;
const SWEEP_TIMEOUT_MS = 240_000;

/**
 * 12 work units of 252 cells (27 CoT positions × 9 steps of replace, plus 9 probes): enough
 * that a work unit's RunGroup call lasts several polls (about 0.5 s here against 60 ms for 30
 * cells), so the cut can be made while one streams.
 */
const SPEC = [
  'name: partition',
  'models: [arith-cot, arith-cot-decoupled]',
  'dataset: {generator: arith, seed: 11, count: 6}',
  'grid:',
  '  positions: [{every: 1, of: cot}]',
  '  steps: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]',
  '  kinds: [replace, probe]',
  'options: {window: 2}',
  '',
].join('\n');

const groupsOpen = (a: AgentProcess): number => {
  const log = a.stderr();
  return (log.match(/"group started"/g) ?? []).length - (log.match(/"group (done|failed)"/g) ?? []).length;
};

describe('an agent on another host cut off by the network', { timeout: 600_000 }, () => {
  let c: Cluster | undefined;
  let ns: Netns | undefined;

  before(() => requirePrerequisites('the partition e2e test', ['arith-cot', 'arith-cot-decoupled']));
  after(async () => {
    // The agent inside the namespace must be gone before the namespace is deleted; close() kills it.
    await c?.close();
    await ns?.close();
  });

  it('moves the cut-off work elsewhere, takes the agent back when the link returns, and writes exactly the plan', async (t) => {
    const t0 = Date.now();
    ns = createNetns();
    c = await startCluster('partition');
    const natsPort = Number(new URL(c.nats.url).port);
    const relayPort = await ns.relay(natsPort);
    const dir = c.home;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=remote-agent',
      '-addext', `subjectAltName=IP:${ns.nsIp}`, '-keyout', join(dir, 'agent-key.pem'), '-out', join(dir, 'agent.pem')], { stdio: 'ignore' });
    const [remoteProc, localProc] = await Promise.all([
      c.startAgent('remote', organismsDir(dir), ['--host', ns.nsIp, '--nats', `nats://${ns.hostIp}:${relayPort}`, '--tls-cert', join(dir, 'agent.pem'), '--tls-key', join(dir, 'agent-key.pem')], ns.exec),
      c.startAgent('local', organismsDir(dir)),
      c.startWorker(['--tls-ca', join(dir, 'agent.pem'), '--stall-ms', String(DEFAULT_STALL_MS)]),
    ]);
    const [remote, local] = await Promise.all([remoteProc.ready, localProc.ready]);
    assert.equal(remote.address.split(':')[0], ns.nsIp, 'the remote agent advertises its address on the link');
    const cluster = c;
    t.diagnostic(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const launched = await c.cli(['launch', c.writeSpec('partition', SPEC), '--task-queue', c.taskQueue, '--json']);
    assert.equal(launched.code, 0, launched.stderr);
    // Mid-stream: the remote agent is running a group and has been for a moment.
    // A group can end between any check and the cut, so the check is repeated until one holds: a
    // group that was open at the last poll is still open now, with no group ended in between,
    // and the cut follows that check at once (a group takes far longer than the check).
    const groupsEnded = (a: AgentProcess): number => (a.stderr().match(/"group (done|failed)"/g) ?? []).length;
    let openedWhile = -1;
    await until('the remote agent to be mid-way through a work unit', async () => {
      const open = groupsOpen(remoteProc) > 0;
      const ended = groupsEnded(remoteProc);
      const ready = open && openedWhile === ended && (await sweepState(cluster, 'partition')).done >= 1;
      openedWhile = open ? ended : -1;
      return ready && groupsOpen(remoteProc) > 0 && groupsEnded(remoteProc) === ended;
    }, SWEEP_TIMEOUT_MS, 100);
    assert.ok(groupsOpen(remoteProc) > 0, 'the remote agent is still streaming when cut off');
    const before = await sweepState(c, 'partition');
    assert.ok(before.done < before.units, 'the sweep is under way');
    const cutAt = Date.now();
    ns.cut();

    // The worker gives up on the silent call and retries the work unit on the local agent.
    // A failed run leaves the unit pending with the agent and the reason (the retry clears the reason).
    const hit = await until('the call to the cut-off agent to fail', async () => {
      const r = await cluster.db.sql.query<{ id: string; error: string | null }>(
        `SELECT id, error FROM "WorkUnit" WHERE "sweepId" = 'partition' AND (("agentId" = $1 AND status <> 'done') OR error LIKE $2)`, [remote.agentId, `%${remote.agentId}%`]);
      return r.rows[0] ?? null;
    }, NOTICE_WITHIN_MS, 200).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}\nunfinished:\n${await unfinishedUnits(cluster, 'partition')}\nworker log (tail):\n${cluster.workerLog().slice(-3000)}`, { cause: err });
    });
    const failedAt = Date.now();
    const moved = await until('the cut-off work unit to be done by the local agent', async () => {
      const u = (await cluster.db.sql.query<{ status: string; agentId: string }>('SELECT status, "agentId" FROM "WorkUnit" WHERE id = $1', [hit.id])).rows[0];
      return u && u.status === 'done' && u.agentId === local.agentId ? { error: hit.error, doneAt: Date.now() } : null;
    }, SWEEP_TIMEOUT_MS, 200);
    t.diagnostic(`link down: the call failed after ${((failedAt - cutAt) / 1000).toFixed(1)} s (${moved.error}); the unit was done on the local agent ${((moved.doneAt - cutAt) / 1000).toFixed(1)} s after the cut`);
    assert.ok(failedAt - cutAt < DEFAULT_STALL_MS, 'the dead link is noticed before the stall timeout');

    // The registry forgets the silent agent (its TTL is 3 s here), while the agent process lives on.
    const kv = await new Kvm(c.nats.nc).open(c.bucket);
    const listed = async (): Promise<Date | undefined> => {
      const { agents } = await listAgentsByStream(cluster.nats.nc, kv, cluster.bucket);
      const a = agents.find((x) => x.agentId === remote.agentId);
      return a ? new Date(a.updatedAt) : undefined;
    };
    await until('the cut-off agent to expire from the registry', async () => (await listed()) === undefined, 15_000, 250);
    assert.equal(remoteProc.child.exitCode, null, 'the cut-off agent keeps running');

    const restoredAt = Date.now();
    ns.restore();
    const back = await until('the agent to be back in the registry', async () => {
      const at = await listed();
      return at && at.getTime() >= restoredAt - 1000 ? Date.now() : null;
    }, REREGISTER_WITHIN_MS, 250);
    t.diagnostic(`link up after ${((restoredAt - cutAt) / 1000).toFixed(1)} s down: the agent was back in the registry ${((back - restoredAt) / 1000).toFixed(1)} s later`);

    // From now on work can only go through the link: the local agent dies, and a second sweep is
    // launched. (On an idle machine the local agent may well have finished the first sweep while the
    // link was down; the second sweep needs the reconnected agent either way.)
    localProc.child.kill('SIGKILL');
    await localProc.exited;
    const again = await c.cli(['launch', c.writeSpec('partition-after', SPEC.replace('name: partition', 'name: partition-after').replace('seed: 11', 'seed: 12')), '--task-queue', c.taskQueue, '--json']);
    assert.equal(again.code, 0, again.stderr);
    try {
      for (const name of ['partition', 'partition-after']) {
        await until(`sweep ${name} to complete`, async () => (await sweepState(cluster, name)).status === 'completed', SWEEP_TIMEOUT_MS, 500);
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\nunfinished:\n${await unfinishedUnits(cluster, 'partition')}${await unfinishedUnits(cluster, 'partition-after')}\nremote agent log (tail):\n${remoteProc.stderr().slice(-2000)}\nworker log (tail):\n${cluster.workerLog().slice(-3000)}`, { cause: err });
    }
    const after = await c.db.sql.query<{ n: string; all: string }>(
      `SELECT count(*) FILTER (WHERE "agentId" = $1) AS n, count(*) AS all FROM "WorkUnit" WHERE "sweepId" = 'partition-after' AND status = 'done'`, [remote.agentId]);
    assert.ok(Number(after.rows[0]!.n) > 0, 'the reconnected agent ran work units');
    assert.equal(after.rows[0]!.n, after.rows[0]!.all, 'every work unit of the second sweep ran on the reconnected agent');
    const cmpAfter = await compareWithPlan(c, 'partition-after');
    assert.deepEqual({ missing: cmpAfter.missing, extra: cmpAfter.extra, rows: cmpAfter.rows }, { missing: [], extra: [], rows: cmpAfter.distinct });
    assert.equal(cmpAfter.rows, cmpAfter.planned);

    const cmp = await compareWithPlan(c, 'partition');
    assert.equal(cmp.unitsWithoutTrajectory, 0);
    assert.deepEqual({ missing: cmp.missing, extra: cmp.extra }, { missing: [], extra: [] }, 'zero lost cells');
    assert.equal(cmp.rows, cmp.distinct, 'zero duplicate cells');
    assert.equal(cmp.rows, cmp.planned);
    assert.equal(cmp.planned, 12 * 252);
    assert.equal(remoteProc.child.exitCode, null, 'the remote agent never exited');
    const walls = [...remoteProc.stderr().matchAll(/"group done".*?"wallMs":(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    t.diagnostic(`the remote agent's groups took ${walls[0]}–${walls.at(-1)} ms (median ${walls[walls.length >> 1]}, ${walls.length} groups)`);
    t.diagnostic(`sweep of ${cmp.planned} cells completed; test wall ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
