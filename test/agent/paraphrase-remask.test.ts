// Paraphrase-remask sampling (docs/paraphrase.md) on the real arith-cot organism: events after
// every K steps, recorded and deterministic; branches of a forked work unit equal running them
// alone; an external HTTP paraphraser's reply is what is re-laid, and one that answers garbage or
// too late fails the work unit with PARAPHRASE_FAILED before anything is emitted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunGroupEvent } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runAlone, runClean, runForked } from '../../node-agent/engine/index.ts';
import { arithCanonical, arithSwapSeeded } from '../../node-agent/paraphrase/rules.ts';
import { eventSeed } from '../../node-agent/paraphrase/remask.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';

const never = new AbortController().signal;
const line = goldenLines('arith-cot').find((l) => l.block_length === 40)!;

function request(paraphraser: string, extra: Partial<RunGroupRequest> = {}) {
  return RunGroupRequest.fromPartial({
    model: 'arith-cot', promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 5, disableSkip: true, returnTokens: true,
    sampler: { paraphrase: { every: 2, remask: 0.3, remaskBy: 'random', paraphraser, spanStart: 0, spanEnd: 0, timeoutMs: 20_000 } },
    ...extra,
  });
}

describe('paraphrase-remask sampling on arith-cot', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        const { text, mask } = JSON.parse(body) as { text: string; mask: string };
        if (req.url === '/canonical') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: arithCanonical.paraphrase(text, 0, mask) }));
        else if (req.url === '/garbage') res.writeHead(200, { 'content-type': 'text/plain' }).end('Sure! Here is a paraphrase: seven hundred fifty');
        else setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(text), 3000);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => { server.closeAllConnections(); server.close(); });

  it('records an event after every 2nd step, remasks 30 % of the re-laid committed positions, ends fully decoded, and repeats exactly', async () => {
    const { loaded } = await testEngine();
    const run = () => runClean(prepareGroup(loaded, request('arith-swap'), 1), never);
    const a = await run();
    const events = a.message.paraphraseEvents;
    assert.deepEqual(events.map((e) => e.step), Array.from({ length: 19 }, (_, k) => 2 * k + 1));
    for (const [k, e] of events.entries()) {
      const committed = e.commitAfter.filter((c) => c >= 0).length + e.remasked.length;
      assert.equal(e.remasked.length, Math.round(0.3 * committed), `event ${k}`);
      for (const p of e.remasked) assert.equal(e.commitAfter[p], -1);
      assert.equal(e.paraphraser, 'arith-swap');
      // Between events committed tokens never change: the next event starts from this one's state.
      const next = events[k + 1];
      if (next) e.commitAfter.forEach((c, i) => { if (c >= 0) assert.equal(next.tokensBefore[i], e.tokensAfter[i], `event ${k} position ${i}`); });
    }
    assert.ok(a.commit.every((c) => c >= 0), 'every position committed at the end');
    // Each event's text is the rule's rewrite with the event's seed (a function of (seed, step) only).
    for (const e of events) assert.equal(e.after, arithSwapSeeded.paraphrase(e.before, eventSeed(5, e.step), '<|mask|>'), `event after step ${e.step}`);
    const b = await run();
    assert.deepEqual(b.message, a.message);
  });

  it('gives every branch of a forked work unit what running it alone gives, events included', async () => {
    const { loaded } = await testEngine();
    const interventions = [
      { key: 'r10', kind: InterventionKind.REMASK, step: 10, position: 3, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 },
      { key: 'g20', kind: InterventionKind.REPLACE, step: 20, position: 1, variant: ReplaceVariant.GIVEN_TOKEN, token: 4 },
      { key: 'g31', kind: InterventionKind.REPLACE, step: 31, position: 29, variant: ReplaceVariant.GIVEN_TOKEN, token: 9 },
    ];
    const req = request('arith-swap', { interventions });
    const results = new Map<string, { tokens: number[]; answer?: string | undefined }>();
    await runForked(prepareGroup(loaded, req, 16), { signal: never, emit: (e) => { if (e.event?.$case === 'result') results.set(e.event.value.key, e.event.value); } });
    const g = prepareGroup(loaded, req, 16);
    const clean = await runClean(g, never);
    for (const iv of g.interventions) {
      if (iv.kind === 'probe') continue;
      const alone = await runAlone(g, clean, iv);
      assert.deepEqual(results.get(iv.key)!.tokens, alone.tokens, iv.key);
      assert.equal(results.get(iv.key)!.answer, alone.answer, iv.key);
    }
  });

  it('re-lays what an HTTP paraphraser returns, and fails with PARAPHRASE_FAILED on garbage or a timeout before anything is emitted', async () => {
    const { loaded } = await testEngine();
    const ok = await runClean(prepareGroup(loaded, request(`${base}/canonical`), 1), never);
    assert.ok(ok.message.paraphraseEvents.length > 0);
    for (const e of ok.message.paraphraseEvents) {
      assert.equal(e.paraphraser, `${base}/canonical`);
      assert.equal(e.after, arithCanonical.paraphrase(e.before, 0, '<|mask|>'));
    }
    for (const [path, why] of [['/garbage', /cannot represent/], ['/slow', /no reply within 1000 ms/]] as const) {
      const emitted: RunGroupEvent[] = [];
      const req = request(`${base}${path}`);
      req.sampler!.paraphrase!.timeoutMs = 1000;
      await assert.rejects(runForked(prepareGroup(loaded, req, 4), { signal: never, emit: (e) => emitted.push(e) }), (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'PARAPHRASE_FAILED');
        assert.match(err.message, why);
        assert.ok(err.message.includes(`${base}${path}`), err.message);
        return true;
      });
      assert.deepEqual(emitted, [], `${path}: nothing emitted`);
    }
  });
});
