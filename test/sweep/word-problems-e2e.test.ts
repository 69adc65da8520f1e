// The sub-word organism end to end (models/word-problems: byte-level BPE tokenizer, ChatML
// template, free-text `#### N` answers, two end tokens): a sweep over its held-out JSONL on a
// real agent, Temporal and PostgreSQL — prompts rendered with the chat template and sent as
// ids, every cell's answer parsed from its own text, truncations by the end token — and the
// report's trajectory viewer drawn in headless Chromium with real text, not byte symbols.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { openReport } from '../helpers/chromium.ts';
import type { Cluster } from './cluster.ts';
import { MODELS_DIR, compareWithPlan, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

const NAME = 'wp-e2e';
const SPEC = [
  `name: ${NAME}`,
  'models: [word-problems]',
  'dataset:',
  `  jsonl: ${join(REPO_ROOT, 'models', 'word-problems', 'heldout.jsonl')}`,
  '  prompt: question',
  '  answer: answer',
  "  answer_regex: '#### (?<answer>.+)'",
  '  count: 4',
  'grid:',
  '  positions: [{every: 6, of: all}]',
  '  steps: [0.25, 0.5, 0.75]',
  '  kinds: [replace, {replace: end}, remask, probe]',
  'options: {window: 4}',
  '',
].join('\n');

/** Byte-level BPE's stand-ins for space, newline and tab: never in text shown to a person. */
const BYTE_SYMBOLS = /[ĠĊĉ]/;

describe('a sweep on the sub-word word-problems organism', { timeout: 900_000 }, () => {
  let c: Cluster;
  let browser: Browser | undefined;

  before(async () => {
    assert.ok(existsSync(join(MODELS_DIR, 'word-problems', 'model.onnx')), `the organism is missing from ${MODELS_DIR}`);
    c = await startCluster('word-problems');
    await Promise.all([c.startAgent('agent-a'), c.startWorker()]);
    const r = await c.cli(['launch', c.writeSpec(NAME, SPEC), '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
    try {
      await until(`sweep ${NAME} to complete`, async () => (await sweepState(c, NAME)).status === 'completed', 600_000, 1000);
    } catch (err) {
      const agents = [...c.agents].map(([n, a]) => `${n}: ${a.stderr().slice(-1500)}`).join('\n');
      throw new Error(`${(err as Error).message}\nstate ${JSON.stringify(await sweepState(c, NAME))}\n${await unfinishedUnits(c, NAME)}\nworker:\n${c.workerLog().slice(-3000)}\n${agents}`, { cause: err });
    }
  });
  after(async () => {
    await browser?.close();
    await c?.close();
  });

  it('writes exactly its plan, with prompts stored as the chat template rendered them', async () => {
    const cmp = await compareWithPlan(c, NAME);
    assert.deepEqual({ missing: cmp.missing, extra: cmp.extra, dup: cmp.rows - cmp.distinct }, { missing: [], extra: [], dup: 0 });
    assert.ok(cmp.planned > 100, `cells planned: ${cmp.planned}`);
    const prompts = await c.db.sql.query<{ renderedText: string; promptIds: number[]; text: string }>(
      `SELECT p."renderedText", p."promptIds", p.text FROM "Prompt" p JOIN "WorkUnit" w ON w."promptId" = p.id WHERE w."sweepId" = $1`, [NAME]);
    assert.equal(prompts.rows.length, 4);
    for (const p of prompts.rows) {
      assert.ok(p.renderedText.startsWith('<|im_start|>user\n') && p.renderedText.endsWith('<|im_start|>assistant\n'), p.renderedText);
      assert.ok(p.renderedText.includes(p.text));
      assert.ok(p.promptIds.length > 10 && p.promptIds.length < p.renderedText.length, 'sub-word ids, fewer than characters');
    }
  });

  it('reads every answer from its own decoded text: outcomes, truncations and partial texts as recorded', async () => {
    const traj = await c.db.sql.query<{ finalText: string; answer: string | null }>(
      'SELECT "finalText", answer FROM "Trajectory" WHERE "sweepId" = $1', [NAME]);
    assert.equal(traj.rows.length, 4);
    for (const t of traj.rows) assert.doesNotMatch(t.finalText, BYTE_SYMBOLS, 'clean texts are decoded text');
    const cells = await c.db.sql.query<{ variant: string | null; outcome: string; n: string; partial: string; nullCounts: string }>(
      `SELECT variant, "answerOutcome" AS outcome, count(*) AS n, count(*) FILTER (WHERE "partialText" IS NOT NULL) AS partial,
              count(*) FILTER (WHERE "changedTokens" IS NULL) AS "nullCounts"
         FROM "Cell" WHERE "sweepId" = $1 AND kind = 'replace' GROUP BY 1, 2 ORDER BY 1, 2`, [NAME]);
    const outcomes = new Set(cells.rows.map((r) => r.outcome));
    // noop: a replacement that wrote the token the clean run has there (often an end token written
    // where the clean run already ended): recognised, stored as such, left out of every rate.
    for (const o of outcomes) assert.ok(['same', 'changed', 'none', 'noop'].includes(o), `outcome ${o}`);
    assert.ok(outcomes.has('same') || outcomes.has('changed'), 'some replacements ran');
    assert.ok(cells.rows.some((r) => r.variant === 'end'), 'end-token replacements ran');
    const texts = await c.db.sql.query<{ t: string }>(
      `SELECT COALESCE("finalText", "partialText") AS t FROM "Cell" WHERE "sweepId" = $1 AND COALESCE("finalText", "partialText") IS NOT NULL`, [NAME]);
    for (const r of texts.rows) assert.doesNotMatch(r.t, BYTE_SYMBOLS);
    // A cell's flip agrees with its own parsed answer against the clean run's.
    const wrong = await c.db.sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM "Cell" c JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId"
        WHERE c."sweepId" = $1 AND c.kind <> 'probe' AND c.flipped <> (c."finalAnswer" IS DISTINCT FROM t.answer)`, [NAME]);
    assert.equal(Number(wrong.rows[0]!.n), 0);
  });

  it('renders a report whose trajectory viewer shows real text', async () => {
    const out = join(c.home, 'wp-report.html');
    const r = await c.cli(['report', NAME, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const opened = await openReport(out);
    browser = opened.browser;
    const { page } = opened;
    assert.deepEqual(opened.errors, []);
    await page.locator('#viewer-step').focus();
    await page.keyboard.press('End');
    const seq = (await page.locator('#viewer-seq .tok, #viewer-seq .ch').allTextContents()).join('');
    assert.ok(seq.length > 20, `the viewer drew the sequence: ${seq}`);
    assert.doesNotMatch(seq, BYTE_SYMBOLS, `no byte symbols in the viewer: ${seq}`);
    assert.match(seq, / [a-z]+ /i, `words with spaces between them: ${seq}`);
    await page.screenshot({ path: join(REPO_ROOT, 'test', 'artifacts', 'word-problems-report.png'), fullPage: true });
  });
});
