/** `faithsweep export SWEEP --format csv|parquet --out PATH`: every cell with its context, streamed to a file. */
import { command } from '../../../common/cli/command.ts';
import { parseIntFlag } from '../../../common/cli/int-flag.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { outputFile } from '../../../common/cli/output-path.ts';
import { connectReadOnly } from '../../results/connect.ts';
import { exportSweep } from '../../results/export.ts';
import type { ExportFormat } from '../../results/export.ts';
import { resolveSweep } from '../../results/sweep-ref.ts';
import { readerDatabaseUrlFor } from './endpoints.ts';

export const exportCommand = command({
  name: 'export',
  summary: "Write a sweep's cells, joined with trajectory, model and prompt columns, to CSV or Parquet",
  args: 'SWEEP --format csv|parquet --out PATH',
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    'row-group-size': { type: 'string' },
  },
  details: [
    'SWEEP                  the sweep name or id',
    '--format csv|parquet   output format (default: from the --out extension)',
    '--out PATH             output file; written beside it first and renamed when complete',
    '--row-group-size N     Parquet rows per row group, the most rows held in memory (default 100000)',
    'Columns are listed in docs/sql.md (export section). Rows stream: memory does not grow with the sweep.',
  ],
  async run(ctx, { values, positionals }) {
    if (positionals.length !== 1) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'export takes one SWEEP (name or id)', { hint: 'e.g. faithsweep export demo --format parquet --out demo.parquet' });
    const out = values['out'] as string | undefined;
    if (!out) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--out is required');
    const byExtension = /\.parquet$/i.test(out) ? 'parquet' : /\.csv$/i.test(out) ? 'csv' : undefined;
    const given = values['format'] as string | undefined;
    if (given === undefined && byExtension === undefined) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, `cannot tell the format from --out ${out}: it ends in neither .csv nor .parquet`, { hint: 'give --format csv or --format parquet' });
    }
    const format = (given ?? byExtension) as ExportFormat;
    if (format !== 'csv' && format !== 'parquet') throw new FaithsweepError(ErrorCode.BAD_ARGS, `--format must be csv or parquet (got '${String(format)}')`);
    if (byExtension !== undefined && byExtension !== format) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, `--format ${format} does not match --out ${out}`, { hint: `name the file .${format}, or drop --format` });
    }
    const path = outputFile('--out', out);
    const rowGroupSize = parseIntFlag('row-group-size', values['row-group-size'], { min: 1, what: 'a positive integer' });
    const client = await connectReadOnly(await readerDatabaseUrlFor(ctx), 'faithsweep export');
    try {
      const sweep = await resolveSweep(client, positionals[0]!);
      const started = Date.now();
      const r = await exportSweep(client, sweep.id, { format, out: path, ...(rowGroupSize ? { rowGroupSize } : {}) });
      const summary = { sweep: sweep.name, sweepId: sweep.id, format, out: path, rows: r.rows, bytes: r.bytes, rowGroups: r.rowGroups, columns: r.columns.length, seconds: (Date.now() - started) / 1000 };
      if (ctx.json) ctx.out(JSON.stringify(summary));
      else ctx.out(`exported ${r.rows} cells of sweep ${sweep.name} to ${path} (${format}, ${r.columns.length} columns, ${r.bytes} bytes${format === 'parquet' ? `, ${r.rowGroups} row groups` : ''})`);
      return 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});
