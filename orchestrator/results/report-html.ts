/**
 * The report as one self-contained HTML file: the data as inline JSON, the page script
 * (report-client.js) and styles (report.css) inlined, charts drawn as inline SVG. Nothing is
 * fetched when the file is opened, so it can be mailed or archived with its sweep.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { ReportData } from './report-data.ts';

const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element (no `</script>`, no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Renders the report page for `data`. */
export function renderReportHtml(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>faithsweep report: ${escapeHtml(data.sweep.name)}</title>
<style>
${asset('report.css')}
</style>
</head>
<body>
<main id="app"></main>
<noscript>This report draws its charts with JavaScript; enable it to see them. The numbers are in the JSON below.</noscript>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
${asset('report-client.js')}
</script>
</body>
</html>
`;
}

/** Writes `html` to `out` atomically (beside it first, then renamed). */
export function writeFileAtomic(out: string, html: string): void {
  const tmp = `${out}.partial-${process.pid}`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
