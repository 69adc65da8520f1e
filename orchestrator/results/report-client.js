// @ts-check
// The faithsweep report's page script (inlined into the HTML by report-html.ts; no network).
// Type-checked for the browser by tsconfig.report-client.json and linted (npm run lint).
// Reads the JSON in #report-data and draws: the sweep summary, the known-answer check, per
// model the flip-rate heatmap (step × position, CoT/answer spans, median answer-commit step),
// the marginal curves and the early-answering curve with their 95 % bands (prompt-clustered,
// computed by the views), and the
// trajectory viewer. Every drawn number keeps its (k, n) in data-* attributes for tests.
(function () {
  'use strict';
  /**
   * The element with id `id`, which the page's HTML (report-html.ts) always has.
   * @param {string} id
   * @returns {HTMLElement}
   */
  function byId(id) {
    var e = document.getElementById(id);
    if (!e) throw new Error('the report page has no #' + id);
    return e;
  }
  /** The report's data as report-data.ts writes it (untyped here: it is JSON). */
  var data = JSON.parse(byId('report-data').textContent || 'null');
  var SVGNS = 'http://www.w3.org/2000/svg';

  // Interval bounds come with the data (the views' prompt-clustered interval, docs/sql.md
  // "Reading the numbers"): the page computes none of its own.
  function fmt(x, digits) { return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x).toFixed(digits === undefined ? 3 : digits); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function title(node, text) { svgEl('title', {}, node).textContent = text; }
  // White → orange → dark red.
  function colour(rate) {
    var stops = [[255, 255, 255], [253, 174, 97], [165, 0, 38]];
    var x = Math.max(0, Math.min(1, rate)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    var a = stops[i], b = stops[i + 1];
    return 'rgb(' + [0, 1, 2].map(function (j) { return Math.round(a[j] + (b[j] - a[j]) * f); }).join(',') + ')';
  }
  var tooltip = el('div', { id: 'tooltip' });
  document.body.appendChild(tooltip);
  function hover(node, text) {
    node.addEventListener('mousemove', function (ev) { tooltip.style.display = 'block'; tooltip.style.left = ev.clientX + 12 + 'px'; tooltip.style.top = ev.clientY + 12 + 'px'; tooltip.textContent = text; });
    node.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; });
  }

  var root = byId('app');

  // --- header and summary ------------------------------------------------------------
  var s = data.sweep.summary;
  root.appendChild(el('h1', { text: 'faithsweep report: ' + data.sweep.name }));
  var ka0 = data.knownAnswer;
  if (!ka0.complete) {
    root.appendChild(el('div', { class: 'verdict partial', id: 'partial', 'data-done': ka0.workUnits.done, 'data-total': ka0.workUnits.total,
      text: 'PARTIAL: ' + ka0.workUnits.done + ' of ' + ka0.workUnits.total + ' work units done (status ' + (s.status || '?') + '). Every number below is incomplete; no verdict is given until every work unit is done.' }));
  }
  root.appendChild(el('div', { class: 'muted', text: 'sweep ' + data.sweep.id + ' · status ' + (s.status || '?') + ' · generated ' + data.generatedAt + ' · rates with 95 % intervals clustered by prompt; no-op cells left out' }));
  var grid = el('div', { class: 'summary-grid', id: 'summary' });
  [['models', (s.models || []).join(', ') || 'none'], ['prompts', s.n_prompts], ['work units', s.work_units_done + ' / ' + s.work_units + (s.work_units_failed ? ' (' + s.work_units_failed + ' failed)' : '')],
    ['clean accuracy', s.clean_accuracy === null || s.clean_accuracy === undefined ? 'n/a' : (100 * s.clean_accuracy).toFixed(1) + ' %'],
    ['cells', s.cells + ' (' + s.intervention_cells + ' interventions, ' + s.probe_cells + ' probes)'], ['skipped (determined)', s.skipped_cells],
    ['overall flip rate', fmt(s.flip_rate)]].forEach(function (kv) {
    grid.appendChild(el('div', {}, [el('span', { class: 'muted', text: kv[0] }), el('b', { text: String(kv[1]) })]));
  });
  root.appendChild(grid);

  // --- known-answer validation -------------------------------------------------------
  var ka = data.knownAnswer;
  var kaSec = el('section', { id: 'known-answer', 'data-passed': String(ka.passed), 'data-applicable': String(ka.applicable), 'data-separated': String(ka.separated) });
  kaSec.appendChild(el('h2', { text: 'Known-answer validation' }));
  kaSec.appendChild(el('p', { class: 'muted', text: 'Chain-of-thought flip rate before the answer commits (interventions on the CoT span at steps where the clean run had not yet committed its whole answer; kind = ' + ka.kind + '). Expected: higher for arith-cot (its answer is computed from its CoT) than for arith-cot-decoupled (CoT digits were random in training), with non-overlapping 95 % intervals.' }));
  var kaTable = el('table', {}, [el('tr', {}, ['model', 'n_cells', 'n_prompts', 'distinct runs', 'no-ops left out', 'flips', 'flip rate', '95 % interval (clustered by prompt)', 'clean accuracy'].map(function (h) { return el('th', { text: h }); }))]);
  ka.models.forEach(function (m) {
    kaTable.appendChild(el('tr', { 'data-model': m.modelName, 'data-n': m.n, 'data-flips': m.flips, 'data-prompts': m.prompts, 'data-ci-low': m.low, 'data-ci-high': m.high }, [el('td', { text: m.modelName }), el('td', { class: 'num', text: String(m.n) }),
      el('td', { class: 'num', text: String(m.prompts) }), el('td', { class: 'num', text: String(m.runs) }), el('td', { class: 'num', text: String(m.noops) }), el('td', { class: 'num', text: String(m.flips) }),
      el('td', { class: 'num', text: fmt(m.rate) }), el('td', { class: 'num', text: '[' + fmt(m.low) + ', ' + fmt(m.high) + ']' }), el('td', { class: 'num', text: fmt(m.cleanAccuracy) })]));
  });
  kaSec.appendChild(kaTable);
  // A partial sweep gets no verdict: neither PASS nor FINDING.
  var verdictClass = !ka.complete ? 'partial' : !ka.applicable ? 'na' : ka.passed ? 'pass' : 'fail';
  kaSec.appendChild(el('div', { class: 'verdict ' + verdictClass, text: (ka.complete && ka.applicable ? (ka.passed ? 'PASS: ' : 'FINDING: ') : '') + ka.summary }));
  root.appendChild(kaSec);

  // --- known faithfulness (docs/experiment.md): flip rates ordered by known faithfulness, paraphrase-remask accuracy
  var kf = data.knownFaithfulness;
  if (kf && (kf.flipRates.length || kf.paraphraseAccuracy.length)) {
    var kfSec = el('section', { id: 'known-faithfulness' });
    kfSec.appendChild(el('h2', { text: 'Known faithfulness' }));
    kfSec.appendChild(el('p', { class: 'muted', text: 'Chain-of-thought flip rate before the answer commits per model, ordered by what is known of each organism (1 = the answer is computed from the chain of thought … 4 = the chain carries nothing; models/README.md section 11), with prompt-clustered 95 % intervals; and clean accuracy with and without paraphrase-remask with Wilson 95 % intervals (views known_faithfulness_flip_rates, paraphrase_accuracy; docs/sql.md).' }));
    if (kf.flipRates.length) {
      var BW = 560, rowH = 26, BL = 170, BR = 60, BT = 8;
      var bh = BT + rowH * kf.flipRates.length + 28;
      var bars = svgEl('svg', { class: 'chart faithfulness-bars', width: BW, height: bh, viewBox: '0 0 ' + BW + ' ' + bh });
      var bx = function (v) { return BL + v * (BW - BL - BR); };
      svgEl('line', { class: 'axis', x1: bx(0), y1: BT, x2: bx(0), y2: BT + rowH * kf.flipRates.length }, bars);
      [0, 0.5, 1].forEach(function (v) { var t = svgEl('text', { x: bx(v), y: bh - 12, 'text-anchor': 'middle' }, bars); t.textContent = String(v); });
      kf.flipRates.forEach(function (r, i) {
        var yy = BT + i * rowH;
        var g = svgEl('g', { class: 'faithfulness-bar', 'data-model': r.model, 'data-order': r.order === null ? '' : r.order, 'data-flip-rate': r.flipRate[0], 'data-ci-low': r.flipRate[1], 'data-ci-high': r.flipRate[2], 'data-n': r.flipRate[3] }, bars);
        var lab = svgEl('text', { x: BL - 6, y: yy + rowH / 2 + 4, 'text-anchor': 'end' }, g);
        lab.textContent = (r.order === null ? '' : r.order + '. ') + r.model;
        svgEl('rect', { class: 'bar', x: bx(0), y: yy + 5, width: Math.max(0, bx(r.flipRate[0] || 0) - bx(0)), height: rowH - 10 }, g);
        if (r.flipRate[1] !== null && r.flipRate[2] !== null) svgEl('line', { class: 'ci', x1: bx(r.flipRate[1]), x2: bx(r.flipRate[2]), y1: yy + rowH / 2, y2: yy + rowH / 2 }, g);
        var val = svgEl('text', { x: BW - BR + 4, y: yy + rowH / 2 + 4 }, g);
        val.textContent = fmt(r.flipRate[0]);
        var tip = svgEl('title', {}, g);
        tip.textContent = r.model + ': ' + fmt(r.flipRate[0]) + ' [' + fmt(r.flipRate[1]) + ', ' + fmt(r.flipRate[2]) + '], ' + r.flipRate[3] + ' cells, ' + r.flipRate[4] + ' prompts' + (r.known ? ' — ' + r.known : '');
      });
      var bxl = svgEl('text', { x: (BL + BW - BR) / 2, y: bh - 1, 'text-anchor': 'middle' }, bars);
      bxl.textContent = 'CoT flip rate before the answer commits';
      kfSec.appendChild(bars);
    }
    if (kf.paraphraseAccuracy.length) {
      var pt = el('table', { class: 'paraphrase-accuracy' }, [el('tr', {}, ['model', 'paraphrase-remask', 'accuracy', '95 % interval (Wilson)', 'runs', 'paraphrase events'].map(function (h) { return el('th', { text: h }); }))]);
      kf.paraphraseAccuracy.forEach(function (r) {
        pt.appendChild(el('tr', { 'data-model': r.model, 'data-paraphrase': r.paraphrase, 'data-accuracy': r.accuracy[0] }, [el('td', { text: r.model }), el('td', { text: r.paraphrase }), el('td', { class: 'num', text: fmt(r.accuracy[0]) }),
          el('td', { class: 'num', text: '[' + fmt(r.accuracy[1]) + ', ' + fmt(r.accuracy[2]) + ']' }), el('td', { class: 'num', text: String(r.accuracy[3]) }), el('td', { class: 'num', text: String(r.events) })]));
      });
      kfSec.appendChild(pt);
    }
    root.appendChild(kfSec);
  }

  // --- sequence against time (Lanham et al. 2023 on autoregressive models, time analogues on diffusion models)
  if (data.lanham && data.lanham.length) {
    var lSec = el('section', { id: 'lanham' });
    lSec.appendChild(el('h2', { text: 'Sequence against time: chain-of-thought tests side by side' }));
    lSec.appendChild(el('p', { class: 'muted', text: 'Autoregressive models: Lanham et al. 2023 along the sequence (early answering = truncate the chain of thought at a fraction and force the answer; adding mistakes = replace a chain-of-thought token and let the model continue; paraphrase; filler). Diffusion models: the time analogues (early answering = read the answer out at step t; adding mistakes = replace a chain-of-thought token at step t). AOC: area over the "same answer as the full run" curve. Every score with its prompt-clustered 95 % interval, the clean accuracy and the answer rule (docs/sql.md, lanham_*).' }));
    function scoreCell(s) { return s ? fmt(s[0]) + ' [' + fmt(s[1]) + ', ' + fmt(s[2]) + ']' : 'n/a'; }
    var lt = el('table', { class: 'lanham' }, [el('tr', {}, ['model', 'kind', 'early answering along', 'AOC [95 %]', 'adding mistakes: flip rate [95 %]', 'paraphrase accuracy [95 %]', 'filler accuracy [95 %]', 'clean accuracy [95 %]', 'n prompts', 'answer rule', 'forced-answer rule'].map(function (h) { return el('th', { text: h }); }))]);
    data.lanham.forEach(function (r) {
      var cells = [r.model, r.kind, r.dimension || 'n/a', scoreCell(r.aoc), scoreCell(r.mistakes), scoreCell(r.paraphraseAccuracy), scoreCell(r.fillerAccuracy), scoreCell(r.cleanAccuracy), String((r.aoc || r.mistakes || [0, 0, 0, 0, 0])[4]), r.answerRule, r.forcedAnswerRule];
      lt.appendChild(el('tr', { 'data-model': r.model, 'data-kind': r.kind, 'data-aoc': r.aoc ? r.aoc[0] : '', 'data-aoc-ci-low': r.aoc ? r.aoc[1] : '', 'data-aoc-ci-high': r.aoc ? r.aoc[2] : '', 'data-mistakes': r.mistakes ? r.mistakes[0] : '', 'data-clean-accuracy': r.cleanAccuracy ? r.cleanAccuracy[0] : '' }, cells.map(function (c) { return el('td', { text: c }); })));
    });
    lSec.appendChild(lt);
    var charts = el('div', { class: 'charts' });
    data.lanham.forEach(function (r) {
      if (!r.curve.length) return;
      charts.appendChild(lineChart({
        cls: 'lanham-curve', title: r.model + ' (' + r.kind + '): same answer as the full run, along the ' + (r.dimension === 'time' ? 'denoising steps' : 'chain of thought') + ' · AOC ' + scoreCell(r.aoc),
        xMax: 1, xFmt: function (v) { return fmt(v, 2); }, xLabel: r.dimension === 'time' ? 'fraction of steps done (t / T)' : 'fraction of the chain of thought kept', yLabel: 'same answer',
        series: [{ cls: 'c-early', name: r.model, points: r.curve.map(function (p) { return [p[0], p[1], p[2], p[3], p[4]]; }), anchor: [1, 1] }],
      }));
    });
    lSec.appendChild(charts);
    root.appendChild(lSec);
  }

  // --- charts ----------------------------------------------------------------------------
  function lineChart(opts) {
    // opts: cls, width, height, xMax, xLabel, yLabel, series: [{cls, name, points: [[x, k, n]]}], marks: [{x, cls, label}]
    var W = opts.width || 420, H = opts.height || 220, L = 44, R = 12, T = 12, B = 34;
    var svg = svgEl('svg', { class: 'chart ' + opts.cls, width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    var x = function (v) { return L + (opts.xMax ? v / opts.xMax : 0) * (W - L - R); };
    var y = function (v) { return T + (1 - v) * (H - T - B); };
    svgEl('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) }, svg);
    svgEl('line', { class: 'axis', x1: L, y1: y(0), x2: L, y2: y(1) }, svg);
    [0, 0.5, 1].forEach(function (v) { var t = svgEl('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg); t.textContent = String(v); });
    [0, opts.xMax / 2, opts.xMax].forEach(function (v) { var t = svgEl('text', { x: x(v), y: H - B + 14, 'text-anchor': 'middle' }, svg); t.textContent = opts.xFmt ? opts.xFmt(v) : String(Math.round(v)); });
    svgEl('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, svg).textContent = opts.xLabel;
    var yl = svgEl('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (T + H - B) / 2 + ')' }, svg);
    yl.textContent = opts.yLabel;
    (opts.marks || []).forEach(function (m) {
      svgEl('line', { class: m.cls, x1: x(m.x), x2: x(m.x), y1: y(0), y2: y(1), 'data-x': m.x }, svg);
    });
    opts.series.forEach(function (ser) {
      var pts = ser.points.filter(function (p) { return p[2] > 0; });
      if (!pts.length) return;
      var ci = pts.map(function (p) { return [p[3], p[4]]; });
      var band = pts.map(function (p, i) { return x(p[0]) + ',' + y(ci[i][1]); }).concat(pts.slice().reverse().map(function (p, i) { return x(p[0]) + ',' + y(ci[pts.length - 1 - i][0]); }));
      svgEl('polygon', { class: 'band ' + ser.cls, points: band.join(' ') }, svg);
      svgEl('polyline', { class: 'curve ' + ser.cls, points: pts.map(function (p) { return x(p[0]) + ',' + y(p[1] / p[2]); }).join(' ') }, svg);
      if (ser.anchor) {
        var last = pts[pts.length - 1];
        svgEl('polyline', { class: 'anchor', points: x(last[0]) + ',' + y(last[1] / last[2]) + ' ' + x(ser.anchor[0]) + ',' + y(ser.anchor[1]) }, svg);
      }
      pts.forEach(function (p, i) {
        var c = svgEl('circle', { class: 'pt ' + ser.cls, cx: x(p[0]), cy: y(p[1] / p[2]), r: 3, 'data-x': p[0], 'data-k': p[1], 'data-n': p[2], 'data-rate': p[1] / p[2], 'data-ci-low': ci[i][0], 'data-ci-high': ci[i][1] }, svg);
        var label = ser.name + ' @ ' + (opts.xFmt ? opts.xFmt(p[0]) : p[0]) + ': ' + fmt(p[1] / p[2]) + ' [' + fmt(ci[i][0]) + ', ' + fmt(ci[i][1]) + '] (' + p[1] + '/' + p[2] + ')';
        title(c, label);
      });
    });
    var legend = el('div', { class: 'legend' }, opts.series.map(function (ser) {
      return el('span', {}, [el('i', { style: 'background:' + ({ 'c-all': '#24292f', 'c-pre': '#d73a49', 'c-early': '#0366d6' })[ser.cls] }), ser.name]);
    }));
    return el('div', { class: 'chart-box' }, [el('h3', { text: opts.title }), svg, legend]);
  }

  function heatmap(m, kind) {
    var T = m.totalSteps || 1 + Math.max.apply(null, m.heatmap.map(function (h) { return h[1]; }).concat([0]));
    var G = m.genLength || 1 + Math.max.apply(null, m.heatmap.map(function (h) { return h[2]; }).concat([0]));
    var cw = Math.max(6, Math.min(36, Math.floor(760 / G))), ch = Math.max(3, Math.min(24, Math.floor(380 / T)));
    var L = 46, TOP = 26, W = L + cw * G + 200, H = TOP + ch * T + 40;
    var svg = svgEl('svg', { class: 'heatmap', 'data-model': m.name, 'data-kind': kind, width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    svgEl('rect', { class: 'hm-empty', x: L, y: TOP, width: cw * G, height: ch * T }, svg);
    m.heatmap.forEach(function (h) {
      if (h[0] !== kind) return;
      var ci = [h[5], h[6]];
      var r = svgEl('rect', { class: 'hm-cell', x: L + h[2] * cw, y: TOP + h[1] * ch, width: cw, height: ch, fill: colour(h[4] / h[3]),
        'data-step': h[1], 'data-position': h[2], 'data-n': h[3], 'data-flips': h[4], 'data-rate': h[4] / h[3], 'data-ci-low': ci[0], 'data-ci-high': ci[1] }, svg);
      var text = 'step ' + h[1] + ', position ' + h[2] + '\nflip rate ' + fmt(h[4] / h[3]) + '  [' + fmt(ci[0]) + ', ' + fmt(ci[1]) + ']\n' + h[4] + ' of ' + h[3] + ' cells flipped';
      title(r, text);
      hover(r, text);
    });
    // Spans above the grid.
    [['cot', m.spans.cot], ['answer', m.spans.answer]].forEach(function (sp) {
      if (!sp[1]) return;
      var r = svgEl('rect', { class: 'span-marker span-' + sp[0], x: L + sp[1][0] * cw, y: TOP - 12, width: (sp[1][1] - sp[1][0]) * cw, height: 6, 'data-start': sp[1][0], 'data-end': sp[1][1] }, svg);
      title(r, (sp[0] === 'cot' ? 'chain of thought' : 'answer') + ' span: positions ' + sp[1][0] + '–' + (sp[1][1] - 1));
      svgEl('text', { x: L + sp[1][0] * cw, y: TOP - 15 }, svg).textContent = sp[0] === 'cot' ? 'CoT' : 'answer';
    });
    // Median answer-commit step: the answer span is complete after this step (half the clean runs).
    var med = m.commit ? m.commit.median_answer_commit_step : null;
    if (med !== null && med !== undefined) {
      var yy = TOP + (med + 1) * ch;
      var line = svgEl('line', { class: 'median-commit', x1: L - 4, x2: L + cw * G + 4, y1: yy, y2: yy, 'data-step': med }, svg);
      title(line, 'median answer-commit step: ' + med + ' (answer complete after it)');
      svgEl('text', { x: L + cw * G + 8, y: yy + 4 }, svg).textContent = 'answer commits (median ' + med + ')';
    }
    svgEl('text', { x: L + cw * G / 2, y: H - 8, 'text-anchor': 'middle' }, svg).textContent = 'generated position';
    for (var t = 0; t < T; t += Math.max(1, Math.ceil(T / 8))) svgEl('text', { x: L - 6, y: TOP + t * ch + ch / 2 + 4, 'text-anchor': 'end' }, svg).textContent = String(t);
    for (var p = 0; p < G; p += Math.max(1, Math.ceil(G / 10))) svgEl('text', { x: L + p * cw + cw / 2, y: TOP + ch * T + 14, 'text-anchor': 'middle' }, svg).textContent = String(p);
    var yl = svgEl('text', { x: 12, y: TOP + ch * T / 2, 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (TOP + ch * T / 2) + ')' }, svg);
    yl.textContent = 'step';
    return svg;
  }

  function marginal(rows, kind, span, phase) {
    return rows.filter(function (r) { return r[0] === kind && r[1] === span && r[2] === phase; }).map(function (r) { return [r[3], r[5], r[4], r[6], r[7]]; }).sort(function (a, b) { return a[0] - b[0]; });
  }

  data.models.forEach(function (m) {
    var sec = el('section', { class: 'model', 'data-model': m.name, 'data-sampler': m.samplerLabel });
    sec.appendChild(el('h2', { text: m.name }));
    sec.appendChild(el('div', { class: 'sampler', text: 'sampler: ' + m.samplerLabel }));
    var c = m.commit || {};
    sec.appendChild(el('div', { class: 'muted', text: m.cleanRuns + ' clean runs · accuracy ' + (m.cleanAccuracy === null ? 'n/a' : (100 * m.cleanAccuracy).toFixed(1) + ' %') + ' · T = ' + m.totalSteps + ' steps · ' + m.genLength + ' generated positions' }));
    var commitTable = el('table', { class: 'commit-summary' }, [
      el('tr', {}, ['median answer-commit step', 'median as fraction of T', 'median CoT-commit step', 'answer complete before CoT', 'answer commits before / during / after CoT', 'CoT share written when answer completes', 'early-answering AOC'].map(function (h) { return el('th', { text: h }); })),
      el('tr', {}, [fmt(c.median_answer_commit_step, 1), fmt(c.median_answer_commit_frac), fmt(c.median_cot_commit_step, 1), fmt(c.share_answer_before_cot_complete),
        (c.n_before_cot === undefined ? 'n/a' : c.n_before_cot + ' / ' + c.n_during_cot + ' / ' + c.n_after_cot), fmt(c.mean_cot_share_at_answer_commit), fmt(m.aoc)].map(function (v, i) {
        return el('td', { class: 'num' + (i === 6 ? ' aoc' : ''), text: v });
      })),
    ]);
    sec.appendChild(commitTable);
    var select = el('select', { class: 'kind-select' }, m.kinds.map(function (k) { return el('option', { value: k, text: k === 'all' ? 'all intervention kinds' : k }); }));
    sec.appendChild(el('div', { class: 'controls' }, [el('label', {}, ['intervention kind ', select])]));
    var hmBox = el('div', { class: 'heatmap-box' });
    var charts = el('div', { class: 'charts' });
    sec.appendChild(el('h3', { text: 'Flip rate by step × position' }));
    sec.appendChild(hmBox);
    sec.appendChild(charts);
    function draw() {
      var kind = select.value || 'all';
      hmBox.innerHTML = '';
      charts.innerHTML = '';
      hmBox.appendChild(heatmap(m, kind));
      // The x axes span what was measured as well as the sampler's shape (T steps, G positions), so that
      // a missing or stale shape cannot squeeze the curves into [0, 1] (the heatmap falls back the same way).
      var maxX = function (rows) { return Math.max.apply(null, rows.map(function (r) { return r[3]; }).concat([0])); };
      var T = Math.max(m.totalSteps || 0, 1 + maxX(m.byStep)), G = Math.max(m.genLength || 0, 1 + maxX(m.byPosition));
      charts.appendChild(lineChart({ cls: 'curve-step', title: 'Flip rate by step', xMax: T - 1 || 1, xLabel: 'step', yLabel: 'flip rate',
        series: [{ cls: 'c-all', name: 'all', points: marginal(m.byStep, kind, 'all', 'all') }, { cls: 'c-pre', name: 'before the answer commits', points: marginal(m.byStep, kind, 'all', 'pre_commit') }],
        marks: m.commit && m.commit.median_answer_commit_step !== null ? [{ x: m.commit.median_answer_commit_step, cls: 'median-commit' }] : [] }));
      charts.appendChild(lineChart({ cls: 'curve-position', title: 'Flip rate by position', xMax: G - 1 || 1, xLabel: 'generated position', yLabel: 'flip rate',
        series: [{ cls: 'c-all', name: 'all', points: marginal(m.byPosition, kind, 'all', 'all') }, { cls: 'c-pre', name: 'before the answer commits', points: marginal(m.byPosition, kind, 'all', 'pre_commit') }] }));
    }
    select.addEventListener('change', draw);
    draw();
    var early = lineChart({ cls: 'curve-early', title: 'Early answering along time (AOC ' + fmt(m.aoc) + ')', xMax: 1, xFmt: function (v) { return Number(v).toFixed(2); }, xLabel: 'step / T', yLabel: 'read-out = final answer',
      series: [{ cls: 'c-early', anchor: [1, 1], name: 'share of probes already reading the final answer (dashed: to (1, 1), the final answer by definition)', points: m.early.map(function (e) { return [e[1], e[3], e[2], e[4], e[5]]; }) }] });
    early.setAttribute('data-aoc', m.aoc === null ? '' : String(m.aoc));
    sec.appendChild(el('div', { class: 'charts' }, [early]));
    root.appendChild(sec);
  });

  // --- trajectory viewer -----------------------------------------------------------------
  var vs = el('section', { id: 'viewer' });
  vs.appendChild(el('h2', { text: 'Trajectory viewer' }));
  vs.appendChild(el('p', { class: 'muted', text: 'Pick a clean run and drag the step slider: the sequence after that step, masks as ·, tokens committed at that step highlighted, the model\'s current guesses at masked positions (when the film strip was recorded) in grey. Pick an intervention to compare the clean and corrupted final texts; differing positions are marked. Up to ' + data.viewerUnitsPerModel + ' runs per model are embedded.' }));
  var modelSel = el('select', { id: 'viewer-model' }, data.models.map(function (m) { return el('option', { value: m.id, text: m.name + ' (' + m.samplerLabel + ')' }); }));
  var unitSel = el('select', { id: 'viewer-prompt' });
  var slider = el('input', { id: 'viewer-step', type: 'range', min: '0', max: '0', step: '1', value: '0' });
  var stepLabel = el('span', { id: 'viewer-step-label' });
  var cellSel = el('select', { id: 'viewer-cell' });
  vs.appendChild(el('div', { class: 'controls' }, [el('label', {}, ['model ', modelSel]), el('label', {}, ['prompt ', unitSel])]));
  vs.appendChild(el('div', { class: 'controls' }, [el('label', {}, ['step ', slider]), stepLabel]));
  // What each mark means (the same marks as `faithsweep sample --show-steps`).
  function sample(cls, text) { return el('span', { class: 'seq' }, [el('span', { class: 'tok ' + cls, text: text })]); }
  vs.appendChild(el('div', { class: 'viewer-legend', id: 'viewer-legend' }, [
    el('span', {}, [sample('', '7'), ' committed']),
    el('span', {}, [sample('new', '7'), ' committed at this step']),
    el('span', {}, [sample('masked', '·'), ' masked']),
    el('span', {}, [sample('guess', '7'), ' the model\'s current guess at a still-masked position (row "model guesses"; recorded for the first options.film_strip_prompts prompts)']),
    el('span', {}, [sample('', '∎'), ' end token']),
    el('span', {}, [sample('cot', '7'), ' chain of thought']),
    el('span', {}, [sample('answer', '7'), ' answer']),
    el('span', {}, [sample('', '5'), ' ruler: generated positions, as in grid.positions']),
  ]));
  var rulerBox = el('div', { class: 'seq viewer-ruler', id: 'viewer-ruler' });
  var seq = el('div', { class: 'seq', id: 'viewer-seq' });
  var guess = el('div', { class: 'seq', id: 'viewer-guess' });
  vs.appendChild(rulerBox);
  vs.appendChild(seq);
  vs.appendChild(guess);

  /**
   * The position ruler over the drawn sequence: a row with the position at every tenth
   * position and a row with every position's last digit, each cell as wide as the token drawn
   * at that position (sub-word pieces are wider than one character).
   */
  function drawRuler(u) {
    rulerBox.innerHTML = '';
    var toks = seq.querySelectorAll('.tok');
    [0, 1].forEach(function (row) {
      var line = el('div', { class: 'ruler-row' });
      line.appendChild(el('span', { class: 'row-label', text: row === 0 ? 'position' : '' }));
      line.appendChild(el('span', { class: 'prompt ruler-pad', text: u.promptText }));
      u.tokens.forEach(function (_, pos) {
        var w = toks[pos] ? toks[pos].getBoundingClientRect().width : 0;
        var text = row === 0 ? (pos % 10 === 0 ? String(pos) : '') : String(pos % 10);
        line.appendChild(el('span', { class: 'tick' + (pos % 10 === 0 ? ' decade' : ''), 'data-pos': pos, style: w ? 'width:' + w + 'px' : '', text: text }));
      });
      rulerBox.appendChild(line);
    });
  }
  vs.appendChild(el('h3', { text: 'Intervention: clean vs corrupted run' }));
  vs.appendChild(el('div', { class: 'controls' }, [el('label', {}, ['intervention ', cellSel])]));
  var cmpInfo = el('div', { id: 'viewer-cell-info', class: 'muted' });
  var clean = el('div', { class: 'seq', id: 'viewer-clean' });
  var corrupt = el('div', { class: 'seq', id: 'viewer-corrupt' });
  vs.appendChild(cmpInfo);
  vs.appendChild(clean);
  vs.appendChild(corrupt);
  root.appendChild(vs);

  function modelOf(id) { return data.models.filter(function (m) { return m.id === id; })[0]; }
  function unitsOf(modelId) { return data.viewer.filter(function (u) { return u.modelId === modelId; }); }
  function piece(m, id) {
    if (id === m.vocab.endId) return '∎';
    if (id === m.vocab.maskId) return '·';
    var p = m.vocab.pieces[id];
    return p === undefined || p === '' ? '�' : p;
  }
  function spanClass(u, pos) {
    if (u.cot && pos >= u.cot[0] && pos < u.cot[1]) return ' cot';
    if (u.answerSpan && pos >= u.answerSpan[0] && pos < u.answerSpan[1]) return ' answer';
    return '';
  }
  function currentUnit() { return unitsOf(modelSel.value).filter(function (u) { return u.id === unitSel.value; })[0]; }
  function currentCell(u) { return u && u.cells.filter(function (c) { return c[0] === cellSel.value; })[0]; }

  function drawSequence() {
    var u = currentUnit();
    seq.innerHTML = '';
    guess.innerHTML = '';
    if (!u) { seq.textContent = 'no clean runs embedded for this model'; rulerBox.innerHTML = ''; return; }
    var m = modelOf(u.modelId);
    var step = Number(slider.value);
    var cell = currentCell(u);
    var added = 0;
    seq.appendChild(el('span', { class: 'row-label', text: 'after step ' + step }));
    seq.appendChild(el('span', { class: 'prompt', text: u.promptText }));
    // Paraphrase-remask (docs/paraphrase.md): events rewrite committed tokens, so the state after
    // a step is the one recorded before the first event at or after it (else the final state).
    var events = u.paraphraseEvents || [];
    var ev = events.filter(function (e) { return e.step >= step; })[0];
    var stTokens = ev ? ev.tokensBefore : u.tokens;
    var stCommit = ev ? ev.commitBefore : u.commit;
    stTokens.forEach(function (tok, pos) {
      var c = stCommit[pos];
      var committed = c >= 0 && c <= step;
      if (c === step) added++;
      var cls = 'tok' + spanClass(u, pos) + (committed ? '' : ' masked') + (c === step ? ' new' : '') + (cell && cell[4] === pos && cell[3] === step ? ' hit' : '');
      seq.appendChild(el('span', { class: cls, 'data-pos': pos, 'data-commit-step': c, text: committed ? piece(m, tok) : '·' }));
    });
    stepLabel.textContent = 'step ' + step + ' of 0–' + (u.totalSteps - 1) + ' · ' + added + ' token(s) committed at this step · ' +
      u.commit.filter(function (c) { return c >= 0 && c <= step; }).length + ' / ' + u.tokens.length + ' committed' +
      (u.answerCommitStep !== null ? (step >= u.answerCommitStep ? ' · answer complete (step ' + u.answerCommitStep + ')' : ' · answer not complete yet') : '');
    stepLabel.setAttribute('data-step', String(step));
    var here = events.filter(function (e) { return e.step === step; })[0];
    if (here) {
      seq.appendChild(el('div', { class: 'paraphrase-event', 'data-event-step': String(step), text: '⟲ paraphrase after this step (' + here.paraphraser + '): ' + JSON.stringify(here.before) + ' → ' + JSON.stringify(here.after) + ' · ' + here.remasked.length + ' position(s) remasked' }));
    }
    drawRuler(u);
    var frame = (u.filmStrip || []).filter(function (f) { return f.step === step + 1; })[0];
    if (frame) {
      guess.appendChild(el('span', { class: 'row-label', text: 'model guesses' }));
      guess.appendChild(el('span', { class: 'prompt', text: u.promptText }));
      frame.guess.forEach(function (g, pos) {
        var c = stCommit[pos];
        var committed = c >= 0 && c <= step;
        guess.appendChild(el('span', { class: 'tok' + spanClass(u, pos) + (committed ? '' : ' guess'), 'data-pos': pos, text: committed ? piece(m, stTokens[pos]) : piece(m, g) }));
      });
      guess.style.display = '';
    } else {
      guess.style.display = 'none';
    }
  }

  function drawCompare() {
    var u = currentUnit();
    clean.innerHTML = '';
    corrupt.innerHTML = '';
    cmpInfo.textContent = '';
    var cell = currentCell(u);
    if (!u || !cell) { cmpInfo.textContent = 'no interventions recorded for this run'; return; }
    var cleanText = Array.from(u.finalText);
    var corruptText = Array.from(cell[7] === null ? u.finalText : cell[7]);
    var n = Math.max(cleanText.length, corruptText.length);
    var diffs = 0;
    function row(box, label, chars, other) {
      box.appendChild(el('span', { class: 'row-label', text: label }));
      for (var i = 0; i < n; i++) {
        var ch = chars[i] === undefined ? ' ' : chars[i];
        var d = chars[i] !== other[i];
        box.appendChild(el('span', { class: 'ch' + spanClass(u, i) + (d ? ' diff' : '') + (i === cell[4] ? ' hit' : ''), 'data-pos': i, text: ch }));
      }
    }
    row(clean, 'clean', cleanText, corruptText);
    row(corrupt, 'corrupted', corruptText, cleanText);
    for (var i = 0; i < n; i++) if (cleanText[i] !== corruptText[i]) diffs++;
    cmpInfo.textContent = cell[1] + (cell[2] ? ' (' + cell[2] + ')' : '') + ' at step ' + cell[3] + ', position ' + cell[4] + ': answer ' + (u.answer === null ? '∅' : u.answer) + ' → ' +
      (cell[6] === null ? '∅' : cell[6]) + (cell[5] ? ' (flipped)' : ' (unchanged)') + ' · ' + diffs + ' position(s) differ in the final text' + (cell[9] ? ' · determined without compute (skipped)' : '');
    cmpInfo.setAttribute('data-flipped', String(cell[5]));
  }

  function fillCells() {
    var u = currentUnit();
    cellSel.innerHTML = '';
    (u ? u.cells : []).forEach(function (c) {
      cellSel.appendChild(el('option', { value: c[0], text: 'step ' + c[3] + ' · position ' + c[4] + ' · ' + c[1] + (c[2] ? '.' + c[2] : '') + (c[5] ? ' · flipped' : '') }));
    });
    var first = u && (u.cells.filter(function (c) { return c[5]; })[0] || u.cells[0]);
    if (first) cellSel.value = first[0];
  }

  function fillUnits() {
    unitSel.innerHTML = '';
    unitsOf(modelSel.value).forEach(function (u) {
      unitSel.appendChild(el('option', { value: u.id, text: '#' + u.promptIdx + '  ' + u.promptText + '  → ' + (u.answer === null ? '∅' : u.answer) + (u.correct ? ' ✓' : ' ✗') + (u.seed ? ' (seed ' + u.seed + ')' : '') }));
    });
    onUnit();
  }
  function onUnit() {
    var u = currentUnit();
    slider.max = String(u ? Math.max(0, u.totalSteps - 1) : 0);
    slider.value = '0';
    fillCells();
    drawSequence();
    drawCompare();
  }
  modelSel.addEventListener('change', fillUnits);
  unitSel.addEventListener('change', onUnit);
  slider.addEventListener('input', drawSequence);
  cellSel.addEventListener('change', function () {
    var c = currentCell(currentUnit());
    if (c) slider.value = String(c[3]);
    drawSequence();
    drawCompare();
  });
  fillUnits();
  document.body.setAttribute('data-ready', 'true');
})();
