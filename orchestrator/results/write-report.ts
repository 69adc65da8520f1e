/** Gathers, renders and writes a sweep's HTML report: the one call the CLI and the demo make. */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { Queryable } from './queryable.ts';
import { gatherReportData } from './report-data.ts';
import type { ReportData, ReportOptions } from './report-data.ts';
import { renderReportHtml, writeFileAtomic } from './report-html.ts';
import { resolveSweep } from './sweep-ref.ts';

/** What {@link writeReport} wrote. */
export interface WriteReportResult {
  readonly out: string;
  readonly bytes: number;
  readonly data: ReportData;
}

/**
 * Writes the report of `sweep` (name or id) to `out`. Throws `SWEEP_NOT_FOUND` for an
 * unknown sweep and `BAD_ARGS` for a missing output folder (before writing anything),
 * `OUTPUT_FAILED` when the file cannot be written.
 */
export async function writeReport(db: Queryable, sweep: string, out: string, opts: ReportOptions = {}): Promise<WriteReportResult> {
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `the output folder ${dir} does not exist`, { hint: 'create it first' });
  const ref = await resolveSweep(db, sweep);
  const data = await gatherReportData(db, ref, opts);
  const html = renderReportHtml(data);
  try {
    writeFileAtomic(out, html);
  } catch (err) {
    throw new FaithsweepError(ErrorCode.OUTPUT_FAILED, `writing ${out} failed: ${(err as Error).message}`, { hint: 'check the path and free disk space', cause: err });
  }
  return { out, bytes: Buffer.byteLength(html), data };
}
