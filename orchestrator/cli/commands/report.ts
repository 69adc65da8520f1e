/** `faithsweep report SWEEP --out report.html`: one self-contained HTML report. */
import { command } from '../../../common/cli/command.ts';
import { parseIntFlag } from '../../../common/cli/int-flag.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { outputFile } from '../../../common/cli/output-path.ts';
import { connectReadOnly } from '../../results/connect.ts';
import { writeReport } from '../../results/write-report.ts';
import { readerDatabaseUrlFor } from './endpoints.ts';

export const reportCommand = command({
  name: 'report',
  summary: 'Write a self-contained HTML report of a sweep (heatmaps, curves, trajectory viewer)',
  args: 'SWEEP --out report.html',
  options: {
    out: { type: 'string' },
    'viewer-runs': { type: 'string' },
  },
  details: [
    'SWEEP              the sweep name or id',
    '--out PATH         the HTML file to write (default report.html); opens without network',
    '--viewer-runs N    clean runs per model embedded in the trajectory viewer (default 20)',
    'Per model: flip-rate heatmap (step × position) with the CoT/answer spans and the median',
    'answer-commit step, marginal curves and the early-answering curve with Wilson 95 % bands,',
    'and the known-answer validation (arith-cot vs arith-cot-decoupled).',
  ],
  async run(ctx, { values, positionals }) {
    if (positionals.length !== 1) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'report takes one SWEEP (name or id)', { hint: 'e.g. faithsweep report demo --out report.html' });
    const out = outputFile('--out', (values['out'] as string | undefined) ?? 'report.html');
    const viewerUnits = parseIntFlag('viewer-runs', values['viewer-runs'], { min: 0, what: 'a non-negative integer' });
    const client = await connectReadOnly(await readerDatabaseUrlFor(ctx), 'faithsweep report');
    try {
      const r = await writeReport(client, positionals[0]!, out, viewerUnits === undefined ? {} : { viewerUnits });
      const ka = r.data.knownAnswer;
      if (ctx.json) ctx.out(JSON.stringify({ out: r.out, bytes: r.bytes, sweep: r.data.sweep.name, models: r.data.models.map((m) => m.name), knownAnswer: { passed: ka.passed, applicable: ka.applicable, complete: ka.complete, workUnits: ka.workUnits, summary: ka.summary } }));
      else {
        ctx.out(`wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB, ${r.data.models.length} model(s))`);
        if (!ka.complete) ctx.out(`PARTIAL: ${ka.workUnits.done} of ${ka.workUnits.total} work units done; the report gives no verdict`);
        ctx.out(`known-answer validation: ${ka.summary}`);
      }
      return 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});
