import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arithCanonical, arithSwapSeeded, wordProblems } from './rules.ts';
import { parseParaphraseFlag, paraphraseFromOptions, paraphraseProblems } from '../../common/paraphrase/settings.ts';
import { commandParaphraser, httpParaphraser } from './external.ts';
import type { ParaphraseCall } from './external.ts';
import { isEventStep, lastEventStep } from './remask.ts';

const M = '<|mask|>';
const COT = '750>12;481>13;321>06;010>01|01632';

/** Column sums of the complete columns: a + b + c = 10·C + s. */
function columnsConsistent(text: string): boolean {
  return text.split('|')[0]!.split(';').filter((c) => /^\d\d\d>\d\d$/.test(c)).every((c) => Number(c[0]) + Number(c[1]) + Number(c[2]) === 10 * Number(c[4]) + Number(c[5]));
}

describe('rule-based paraphrasers', () => {
  it('arith-swap swaps addend digits of complete columns only, keeps sums, markers and the answer, and is a function of the seed', () => {
    const holes = `75${M}>12;481>13;321>06;010>01|0163${M}`;
    const seen = new Set<string>();
    for (let seed = 0; seed < 16; seed++) {
      const p = arithSwapSeeded.paraphrase(COT, seed, M);
      assert.ok(columnsConsistent(p), p);
      assert.equal(p.length, COT.length);
      assert.equal(p.split('|')[1], '01632');
      assert.equal(arithSwapSeeded.paraphrase(COT, seed, M), p);
      seen.add(p);
      const h = arithSwapSeeded.paraphrase(holes, seed, M);
      assert.ok(h.startsWith(`75${M}>12;`), h);
      assert.ok(h.endsWith(`|0163${M}`), h);
      // The columns after a marker are rewritten too (the '|' inside the marker is not the answer's).
      assert.equal(h.slice(`75${M}>12;`.length, -`|0163${M}`.length), arithSwapSeeded.paraphrase(COT, seed, M).slice(7, 27));
    }
    assert.ok(seen.size > 4, `only ${seen.size} distinct rewrites over 16 seeds`);
    assert.ok(arithSwapSeeded.accepts(holes, M));
    assert.ok(!arithSwapSeeded.accepts('The bags hold 8 * 3 = 24 feathers.', M));
  });

  it('arith-canonical puts the larger addend digit first in every complete column', () => {
    assert.equal(arithCanonical.paraphrase('570>12;481>13;231>06;010>01|01632', 0, M), '750>12;841>13;321>06;100>01|01632');
  });

  it('arith-canonical writes every column separator ">" (arith-cot-stego\'s carries), in incomplete columns too, and leaves the answer alone', () => {
    // arith-cot-stego (models/README.md §11): "=" encodes a carry out of 1; the random digits carry nothing.
    assert.equal(arithCanonical.paraphrase('757=65;485=92;328>60;013>85|01632', 0, M), '757>65;845>92;328>60;103>85|01632');
    // Separators are rewritten even when the column has masked positions; a masked separator stays masked.
    assert.equal(arithCanonical.paraphrase(`75${M}=${M}5;48${M}${M}92;${M}${M}${M}=${M}${M}|0${M}632`, 0, M), `75${M}>${M}5;48${M}${M}92;${M}${M}${M}>${M}${M}|0${M}632`);
    assert.ok(arithCanonical.accepts('757=65;48', M));
    // Idempotent, and the identity on separators of arith-cot's own format.
    const once = arithCanonical.paraphrase('757=65;485=92;328>60;013>85|01632', 0, M);
    assert.equal(arithCanonical.paraphrase(once, 0, M), once);
  });

  it('word-problems swaps independent step lines and commutative operands and uses synonyms, never moving the #### line or a line with a mask', () => {
    const text = 'The bags hold 8 * 3 = 24 feathers.\nThe crates hold 4 * 9 = 36 feathers.\nIn total there are 24 + 36 = 60 feathers.\n#### 60';
    const outs = new Set<string>();
    for (let seed = 0; seed < 32; seed++) {
      const p = wordProblems.paraphrase(text, seed, M);
      const lines = p.split('\n');
      assert.equal(lines.length, 4);
      assert.equal(lines[3], '#### 60');
      // The total line reads both results: it stays after them.
      assert.match(lines[2]!, /(24 \+ 36|36 \+ 24) = 60/);
      outs.add(p);
    }
    const all = [...outs].join('\n');
    assert.match(all, /The crates hold .* = 36 feathers\.\nThe bags hold/);
    assert.match(all, /3 \* 8 = 24/);
    assert.match(all, /Altogether there are/);
    const masked = `The bags hold 8 * 3 = ${M} feathers.\nThe crates hold 4 * 9 = 36 feathers.`;
    for (let seed = 0; seed < 8; seed++) assert.equal(wordProblems.paraphrase(masked, seed, M).split('\n')[0], `The bags hold 8 * 3 = ${M} feathers.`);
  });
});

describe('paraphrase-remask settings', () => {
  it('parses the sample flag and names what is wrong', () => {
    const p = parseParaphraseFlag('every=2,remask=0.3,remask_by=span:3-9,paraphraser=arith-swap');
    assert.deepEqual({ ...p }, { every: 2, remask: 0.3, remaskBy: 'span', spanStart: 3, spanEnd: 9, paraphraser: 'arith-swap', timeoutMs: 30_000 });
    assert.throws(() => parseParaphraseFlag('every=2'), /remask is required/);
    assert.throws(() => parseParaphraseFlag('every=2,remask='), /remask must be a number \(got ''\)/);
    assert.throws(() => parseParaphraseFlag('every=2,remask=0.3,colour=red'), /unknown key 'colour'/);
    assert.throws(() => parseParaphraseFlag('every=2,remask=0.3,remask_by=highest'), /remask_by must be random, low_confidence or span:A-B/);
    assert.deepEqual(paraphraseProblems(parseParaphraseFlag('every=0,remask=1.5'), 40, 'llada'), ['paraphrase.every must be a positive integer (got 0)', 'paraphrase.remask must be a share in [0, 1] (got 1.5)']);
    assert.match(paraphraseProblems(parseParaphraseFlag('every=2,remask=0.3,remask_by=span:3-40'), 40, 'llada')[0]!, /span 3-40 must be generated positions/);
    assert.match(paraphraseProblems(paraphraseFromOptions({ every: 2, remask: 0.3, remask_by: 'span' }), 40, 'llada')[0]!, /span -1-0/);
    assert.match(paraphraseProblems(parseParaphraseFlag('every=2,remask=0.3'), 40, 'fast-dllm')[0]!, /needs mode llada or dream/);
  });

  it('puts an event after every K-th step, never after the last', () => {
    const p = parseParaphraseFlag('every=4,remask=0.25');
    assert.deepEqual([...Array(12).keys()].filter((e) => isEventStep(p, 12, e)), [3, 7]);
    assert.equal(lastEventStep(p, 12), 7);
    assert.equal(lastEventStep(null, 12), -1);
  });
});

describe('external paraphrasers', () => {
  let server: Server;
  let base = '';
  const bodies: unknown[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        const text = (JSON.parse(body) as { text: string }).text;
        if (req.url === '/json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: text.toUpperCase() }));
        else if (req.url === '/plain') res.writeHead(200, { 'content-type': 'text/plain' }).end(`${text}!`);
        else if (req.url === '/garbage') res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": ');
        else if (req.url === '/empty') res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": "  "}');
        else if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(text), 2000);
        else res.writeHead(500).end('boom');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => { server.closeAllConnections(); server.close(); });
  const call = (timeoutMs = 5000): ParaphraseCall => ({ text: `ab${M}c`, seed: 7, mask: M, timeoutMs, signal: new AbortController().signal });

  it('posts text, seed and marker and reads a JSON or a plain-text reply', async () => {
    assert.equal(await httpParaphraser(`${base}/json`).paraphrase(call()), `AB${M.toUpperCase()}C`);
    assert.equal(await httpParaphraser(`${base}/plain`).paraphrase(call()), `ab${M}c!`);
    assert.deepEqual(bodies[0], { text: `ab${M}c`, seed: 7, mask: M });
  });

  it('answers a timeout, an error status and garbage with PARAPHRASE_FAILED naming the endpoint, never the input back', async () => {
    const cases: [string, RegExp, number?][] = [
      ['/slow', /no reply within 300 ms/, 300],
      ['/status', /HTTP 500/],
      ['/garbage', /invalid JSON/],
      ['/empty', /empty text/],
      ['/html', /Content-Type 'text\/html'/],
    ];
    for (const [path, why, timeout] of cases) {
      await assert.rejects(httpParaphraser(`${base}${path}`).paraphrase(call(timeout)), (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'PARAPHRASE_FAILED', path);
        assert.ok(err.message.includes(`${base}${path}`), err.message);
        assert.match(err.message, why);
        return true;
      });
    }
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(httpParaphraser(`http://127.0.0.1:${port}/x`).paraphrase(call()), { code: 'PARAPHRASE_FAILED', message: /request failed: ECONNREFUSED/ });
  });

  it('runs a command with the text on stdin and fails on a non-zero exit, silence or a hang', async () => {
    // Small shell tools start fast even on a loaded machine.
    const upper = commandParaphraser('cmd:upper', ['sh', '-c', 'tr a-z A-Z; printf %s "$FAITHSWEEP_PARAPHRASE_SEED"']);
    assert.equal(await upper.paraphrase({ ...call(60_000), text: 'abc' }), 'ABC7');
    await assert.rejects(commandParaphraser('cmd:bad', ['sh', '-c', 'echo no model >&2; exit 3']).paraphrase(call(60_000)), { code: 'PARAPHRASE_FAILED', message: /cmd:bad: exited with status 3: no model/ });
    await assert.rejects(commandParaphraser('cmd:mute', ['true']).paraphrase(call(60_000)), { code: 'PARAPHRASE_FAILED', message: /empty text/ });
    await assert.rejects(commandParaphraser('cmd:hang', ['sleep', '60']).paraphrase(call(500)), { code: 'PARAPHRASE_FAILED', message: /no reply within 500 ms/ });
  });
});
