// `faithsweep report`: one self-contained HTML file, opened in headless Chromium (Debian's
// package, driven by playwright-core) with the network cut off; the heatmap, curves and
// trajectory viewer must show what the fixture's data says. A screenshot goes to
// test/artifacts/report.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumPath } from '../helpers/chromium.ts';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';
import { cli } from './cli.ts';

const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts');
/** Report sections and viewer entries are per model and sampler setting: `<model id>|gen_length|steps|block_length|temperature|remasking`. */
const A = 'm_a|6|4|6|0|low_confidence';
const B = 'm_b|6|4|6|0|low_confidence';

describe('faithsweep report', () => {
  let t: TestDatabase;
  let dir: string;
  let out: string;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];
  let stdout = '';

  const attr = (selector: string, name: string) => page.locator(selector).first().getAttribute(name);
  const seqText = (id: string) => page.locator(`#${id} .tok, #${id} .ch`).allTextContents().then((a) => a.join(''));
  const classed = (id: string, cls: string) =>
    page.locator(`#${id} .${cls}`).evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-pos'))));

  before(async () => {
    t = await freshDatabase('results_report');
    await insertFixtureSweep(t.sql);
    dir = mkdtempSync(join(tmpdir(), 'fs-report-'));
    out = join(dir, 'report.html');
    const r = cli(t.url, 'report', FIXTURE_SWEEP.name, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    stdout = r.stdout;
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(out).href);
    await page.waitForSelector('body[data-ready="true"]');
  });
  after(async () => {
    await browser?.close();
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is one self-contained file: no external references, no requests but itself, no script errors', () => {
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<(?:script|img|link|iframe)[^>]+(?:src|href)=/i);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.deepEqual(requests, [pathToFileURL(out).href]);
    assert.deepEqual(errors, []);
    assert.match(stdout, /wrote .*report\.html/);
  });

  it('states the known-answer validation with its numbers (the fixture does not separate the models)', async () => {
    assert.match(stdout, /known-answer validation: arith-cot 0\.714 \[0\.359, 0\.918\] \(5\/7 cells, 3 prompts; clean accuracy 0\.667\) vs arith-cot-decoupled 0\.250 \[0\.046, 0\.699\] \(1\/4 cells, 2 prompts; clean accuracy 1\.000\): higher for the CoT model, but the 95 % intervals overlap/);
    assert.equal(await attr('#known-answer', 'data-applicable'), 'true');
    assert.equal(await attr('#known-answer', 'data-passed'), 'false');
    const row = page.locator('#known-answer tr[data-model="arith-cot"] td');
    // n_cells, n_prompts, distinct runs, no-ops left out, flips, rate, clustered interval, clean accuracy.
    assert.deepEqual(await row.allTextContents(), ['arith-cot', '7', '3', '3', '1', '5', '0.714', '[0.359, 0.918]', '0.667']);
    assert.match(await page.locator('#known-answer .verdict').textContent() ?? '', /^FINDING: .*intervals overlap/);
  });

  it('draws the flip-rate heatmap per model with the spans and the median answer-commit step', async () => {
    const a = 'section.model[data-model="arith-cot"] svg.heatmap';
    assert.equal(await page.locator(`${a} rect.hm-cell`).count(), 9, 'c3 is a no-op: no cell at (1, 0)');
    const cell = (s: number, p: number) => `${a} rect.hm-cell[data-step="${s}"][data-position="${p}"]`;
    assert.deepEqual([await attr(cell(0, 0), 'data-n'), await attr(cell(0, 0), 'data-flips'), await attr(cell(0, 0), 'data-rate')], ['3', '3', '1']);
    assert.equal(Number(await attr(cell(0, 0), 'data-ci-low')).toFixed(6), '0.438503');
    assert.deepEqual([await attr(cell(0, 1), 'data-n'), await attr(cell(0, 1), 'data-rate')], ['2', '0.5']);
    assert.equal(await page.locator(cell(1, 1)).count(), 0, 'no cell where nothing was measured');
    assert.equal(await page.locator(cell(1, 0)).count(), 0, 'only a no-op there');
    assert.notEqual(await attr(cell(0, 0), 'fill'), await attr(cell(1, 2), 'fill'), 'rate 1 and rate 0 differ in colour');
    assert.deepEqual([await attr(`${a} .span-cot`, 'data-start'), await attr(`${a} .span-cot`, 'data-end')], ['0', '3']);
    assert.deepEqual([await attr(`${a} .span-answer`, 'data-start'), await attr(`${a} .span-answer`, 'data-end')], ['4', '6']);
    assert.equal(await attr(`${a} line.median-commit`, 'data-step'), '2');
    const b = 'section.model[data-model="arith-cot-decoupled"] svg.heatmap';
    assert.equal(await page.locator(`${b} rect.hm-cell`).count(), 6);
    assert.equal(await attr(`${b} line.median-commit`, 'data-step'), '1');
    // Filtering by kind redraws from that kind's counts.
    await page.locator('section.model[data-model="arith-cot"] select.kind-select').selectOption('remask');
    assert.equal(await page.locator(`${a}[data-kind="remask"] rect.hm-cell`).count(), 1);
    await page.locator('section.model[data-model="arith-cot"] select.kind-select').selectOption('all');
  });

  it('draws the marginal and early-answering curves with their counts, intervals and AOC', async () => {
    const s = 'section.model[data-model="arith-cot"]';
    const step0 = `${s} svg.curve-step circle.c-all[data-x="0"]`;
    assert.deepEqual([await attr(step0, 'data-k'), await attr(step0, 'data-n')], ['5', '6']);
    const pre2 = `${s} svg.curve-step circle.c-pre[data-x="2"]`;
    assert.deepEqual([await attr(pre2, 'data-k'), await attr(pre2, 'data-n')], ['1', '1']);
    const pos0 = `${s} svg.curve-position circle.c-all[data-x="0"]`;
    assert.deepEqual([await attr(pos0, 'data-k'), await attr(pos0, 'data-n')], ['4', '6']);
    // The position axis spans the G = 6 generated positions (0 … 5), like the heatmap's.
    assert.equal(await page.locator(`${s} svg.curve-position text`).nth(5).textContent(), '5');
    assert.equal(await page.locator(`${s} svg.curve-early circle`).count(), 4);
    assert.equal(await attr(`${s} svg.curve-early circle[data-x="0.5"]`, 'data-rate'), String(2 / 3));
    assert.equal(await attr(`${s} .chart-box[data-aoc]`, 'data-aoc'), '0.375');
    assert.equal(await page.locator(`${s} td.aoc`).textContent(), '0.375');
  });

  it('shows the sequence at the slider\'s step, with masks and the newly committed tokens', async () => {
    assert.equal(await page.locator('#viewer-model').inputValue(), A);
    assert.equal(await page.locator('#viewer-prompt').inputValue(), 'wu_a0');
    // wu_a0: text 123|46, commit steps [2,3,3,1,0,1].
    assert.equal(await seqText('viewer-seq'), '····4·');
    assert.deepEqual(await classed('viewer-seq', 'new'), [4]);
    const slider = page.locator('#viewer-step');
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await slider.inputValue(), '1');
    assert.equal(await seqText('viewer-seq'), '···|46');
    assert.deepEqual(await classed('viewer-seq', 'new'), [3, 5]);
    assert.deepEqual(await classed('viewer-seq', 'masked'), [0, 1, 2]);
    // The film strip's guesses (frame of step 2) fill the masks in grey.
    assert.equal(await seqText('viewer-guess'), '123|46');
    assert.deepEqual(await classed('viewer-guess', 'guess'), [0, 1, 2]);
    await page.keyboard.press('ArrowRight');
    assert.equal(await seqText('viewer-seq'), '1··|46');
    assert.deepEqual(await classed('viewer-seq', 'new'), [0]);
    await page.keyboard.press('End');
    assert.equal(await seqText('viewer-seq'), '123|46');
    assert.match(await page.locator('#viewer-step-label').textContent() ?? '', /answer complete \(step 1\)/);
  });

  it('explains its marks in a legend and puts a position ruler over the sequence, aligned with its tokens', async () => {
    const legend = await page.locator('#viewer-legend').textContent() ?? '';
    for (const mark of ['committed at this step', 'masked', "the model's current guess at a still-masked position", 'end token', 'chain of thought', 'answer', 'generated positions']) {
      assert.ok(legend.includes(mark), `legend explains: ${mark}`);
    }
    assert.equal(await page.locator('#viewer-legend .tok.guess').count(), 1);
    // Two rows: the position at every tenth position, and every position's last digit (G = 6).
    const rows = page.locator('#viewer-ruler .ruler-row');
    assert.equal(await rows.count(), 2);
    assert.deepEqual(await rows.nth(1).locator('.tick').allTextContents(), ['0', '1', '2', '3', '4', '5']);
    assert.deepEqual(await rows.nth(0).locator('.tick').allTextContents(), ['0', '', '', '', '', '']);
    // Each tick sits over its token: same left edge and width.
    const boxes = async (sel: string) => page.locator(sel).evaluateAll((ns) => ns.map((n) => { const r = n.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.width)]; }));
    assert.deepEqual(await boxes('#viewer-ruler .ruler-row:nth-child(2) .tick'), await boxes('#viewer-seq .tok'));
  });

  it('puts the clean and corrupted runs of a chosen intervention side by side with the divergence marked', async () => {
    // Default: the first flipped cell, c1 (replace at step 0, position 0 → 923|96).
    assert.equal(await seqText('viewer-clean'), '123|46');
    assert.equal(await seqText('viewer-corrupt'), '923|96');
    assert.deepEqual(await classed('viewer-corrupt', 'diff'), [0, 4]);
    assert.deepEqual(await classed('viewer-corrupt', 'hit'), [0]);
    assert.match(await page.locator('#viewer-cell-info').textContent() ?? '', /answer 46 → 96 \(flipped\)/);
    // c3: remask at step 1 → unchanged; choosing it moves the slider to its step.
    const option = await page.locator('#viewer-cell option', { hasText: 'step 1 · position 0 · remask' }).getAttribute('value');
    await page.locator('#viewer-cell').selectOption(option!);
    assert.equal(await page.locator('#viewer-step').inputValue(), '1');
    assert.deepEqual(await classed('viewer-corrupt', 'diff'), []);
    assert.equal(await attr('#viewer-cell-info', 'data-flipped'), 'false');
    assert.deepEqual(await classed('viewer-seq', 'hit'), [0]);
    // Another run of the other model, whose tokens are decoded without a tokenizer file.
    await page.locator('#viewer-model').selectOption(B);
    await page.locator('#viewer-prompt').selectOption('wu_b1');
    await page.locator('#viewer-step').fill('2');
    assert.equal(await seqText('viewer-seq'), '1·1|03');
    assert.equal(await seqText('viewer-corrupt'), '191|13');
  });

  it('writes a screenshot under test/artifacts/', async () => {
    await page.locator('#viewer-model').selectOption(A);
    await page.locator('#viewer-step').fill('1');
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
  });

  it('heads each model section with its sampler setting', async () => {
    const s = 'section.model[data-model="arith-cot"]';
    assert.equal(await page.locator(`${s} .sampler`).textContent(), 'sampler: gen_length 6 · steps 4 · block_length 6 (single_block) · temperature 0 · low_confidence');
  });

  it('says PARTIAL and gives no verdict while a work unit is not done', async () => {
    await t.sql.query(`UPDATE "WorkUnit" SET status = 'pending' WHERE id = 'wu_b1'`);
    const partial = join(dir, 'partial.html');
    try {
      const r = cli(t.url, 'report', FIXTURE_SWEEP.name, '--out', partial);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^PARTIAL: 4 of 5 work units done; the report gives no verdict$/m);
      assert.match(r.stdout, /known-answer validation: PARTIAL: 4 of 5 work units done, no verdict/);
      const p2 = await browser.newPage();
      try {
        await p2.goto(pathToFileURL(partial).href);
        await p2.waitForSelector('body[data-ready="true"]');
        assert.match(await p2.locator('#partial').textContent() ?? '', /^PARTIAL: 4 of 5 work units done/);
        const verdict = p2.locator('#known-answer .verdict');
        assert.equal(await verdict.getAttribute('class'), 'verdict partial');
        assert.doesNotMatch(await verdict.textContent() ?? '', /^(PASS|FINDING)/);
        assert.equal(await p2.locator('#known-answer').getAttribute('data-passed'), 'false');
        assert.equal(await p2.locator('.verdict.pass, .verdict.fail').count(), 0, 'no green PASS, no FINDING');
      } finally {
        await p2.close();
      }
    } finally {
      await t.sql.query(`UPDATE "WorkUnit" SET status = 'done' WHERE id = 'wu_b1'`);
    }
  });

  it('refuses an unknown sweep without writing a file', () => {
    const missing = join(dir, 'none.html');
    const r = cli(t.url, 'report', 'no-such-sweep', '--out', missing);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[SWEEP_NOT_FOUND\]/);
    assert.equal(existsSync(missing), false);
  });
});
