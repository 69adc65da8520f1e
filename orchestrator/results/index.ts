/** Results: SQL views helpers, read-only queries, export, the HTML report and the known-answer check. */
export { wilson, Z95 } from './wilson.ts';
export type { Proportion } from './wilson.ts';
export type { Queryable } from './queryable.ts';
export { resolveSweep } from './sweep-ref.ts';
export type { SweepRef } from './sweep-ref.ts';
export { knownAnswerValidation } from './known-answer.ts';
export type { CotFlipRate, KnownAnswerOptions, KnownAnswerResult } from './known-answer.ts';
export { runReadOnlyQuery, DEFAULT_QUERY_TIMEOUT_MS } from './read-only-query.ts';
export type { ReadOnlyQueryOptions, ResultColumn } from './read-only-query.ts';
export { exportSweep, EXPORT_COLUMNS, EXPORT_SQL } from './export.ts';
export type { ExportFormat, ExportOptions, ExportResult } from './export.ts';
export { gatherReportData } from './report-data.ts';
export type { ReportData, ReportOptions, ModelReport, ViewerUnit } from './report-data.ts';
export { renderReportHtml, writeFileAtomic } from './report-html.ts';
export { writeReport } from './write-report.ts';
export type { WriteReportResult } from './write-report.ts';
