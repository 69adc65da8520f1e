// `faithsweep watch` on a malformed NATS progress message (real NATS and PostgreSQL): the
// message is reported once with its code, skipped, and watching goes on with the next ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { testNats } from '../helpers/nats.ts';
import type { TestNats } from '../helpers/nats.ts';
import { contextFromEnv } from '../../common/cli/context.ts';
import { watchSweep } from '../../orchestrator/cli/commands/sweep.ts';
import { progressSubject } from '../../orchestrator/sweep/progress-message.ts';
import { parseProgressMessage } from '../../orchestrator/sweep/progress-message.ts';

let db: TestDatabase;
let nats: TestNats;

before(async () => {
  [db, nats] = await Promise.all([freshDatabase('watch-bad-message'), testNats()]);
});
after(async () => {
  await nats?.close();
  await db?.drop();
});

describe('progress messages', () => {
  it('parses what a worker publishes and names what is wrong with anything else (BAD_MESSAGE)', () => {
    const good = { sweepId: 's', workUnitId: 's:u0', agentId: 'a', cells: 3, at: 1 };
    assert.deepEqual(parseProgressMessage(JSON.stringify(good), 'x'), good);
    assert.throws(() => parseProgressMessage('not json{', 'faithsweep.progress.s'), { code: 'BAD_MESSAGE', message: /faithsweep\.progress\.s: not JSON/ });
    assert.throws(() => parseProgressMessage(JSON.stringify({ ...good, cells: 'many' }), 'x'), { code: 'BAD_MESSAGE', message: /cells: / });
    assert.throws(() => parseProgressMessage('null', 'x'), { code: 'BAD_MESSAGE' });
  });

  it('watch reports a malformed message once, without a stack trace, and keeps counting the good ones', async () => {
    const sweepId = `w-${randomBytes(4).toString('hex')}`;
    await db.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt") VALUES ($1, $1, '{"estimate": {"cells": 100, "exact": true}}', 'x', 'running', now())`, [sweepId]);
    const out: string[] = [];
    const err: string[] = [];
    const ctx = { ...contextFromEnv(process.env), json: true, out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const stop = new AbortController();
    const watching = watchSweep(ctx, { databaseUrl: db.url, natsUrl: nats.url }, sweepId, { signal: stop.signal, isTTY: false });
    await new Promise((r) => setTimeout(r, 1500));
    const subject = progressSubject(sweepId);
    nats.nc.publish(subject, 'not json{');
    nats.nc.publish(subject, JSON.stringify({ cells: 'x' }));
    nats.nc.publish(subject, JSON.stringify({ sweepId, workUnitId: `${sweepId}:u0`, agentId: 'agent-a', cells: 7, at: Date.now() }));
    await nats.nc.flush();
    await new Promise((r) => setTimeout(r, 1500));
    stop.abort();
    assert.equal(await watching, 0);
    const warnings = err.filter((l) => l.includes('BAD_MESSAGE'));
    assert.equal(warnings.length, 1, err.join('\n'));
    assert.match(warnings[0]!, /^warning\[BAD_MESSAGE\]: malformed progress message on faithsweep\.progress\.w-[0-9a-f]+: not JSON/);
    assert.doesNotMatch(err.join('\n'), /\n\s+at /, 'no stack trace');
    // The good message after the bad ones is counted: its agent's rate shows (the written count
    // goes back to the database's at the next re-read, every 3 s, so it is not asserted here).
    const last = JSON.parse(out[out.length - 1]!) as { agents: { agent: string; cellsPerSecond: number }[] };
    assert.deepEqual(last.agents, [{ agent: 'agent-a', cellsPerSecond: 0.7 }], 'the good message after the bad ones is counted');
  });
});
