/**
 * `faithsweep export`: a sweep's cells joined with their trajectory, model and prompt
 * columns, as CSV or Parquet. Rows stream from a server-side cursor in batches and Parquet
 * is written one row group at a time, so memory holds at most one row group whatever the
 * sweep's size. The file appears under its name only when complete (written beside it,
 * then renamed): a failed export leaves nothing behind.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Cursor from 'pg-cursor';
import type pg from 'pg';
import { ParquetWriter, fileWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { BasicType, ColumnSource } from 'hyparquet-writer';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { csvLine } from './format.ts';

/** Export formats. */
export type ExportFormat = 'csv' | 'parquet';

/** Options of {@link exportSweep}. */
export interface ExportOptions {
  readonly format: ExportFormat;
  /** Output file; its folder must exist. */
  readonly out: string;
  /** Rows fetched per round trip. @default 5000 */
  readonly batchSize?: number;
  /** Rows per Parquet row group (the most rows held in memory). @default 100000 */
  readonly rowGroupSize?: number;
}

/** What an export wrote. */
export interface ExportResult {
  readonly rows: number;
  readonly bytes: number;
  readonly columns: readonly string[];
  /** Parquet row groups written (0 for CSV). */
  readonly rowGroups: number;
  /** The most rows held in memory at once. */
  readonly maxBufferedRows: number;
}

/** A 100k-row group keeps memory to tens of MB (final texts are short) and is a common reader-friendly size. */
const DEFAULT_ROW_GROUP = 100_000;
const DEFAULT_BATCH = 5000;

interface ExportColumn {
  readonly name: string;
  readonly sql: string;
  readonly type: BasicType;
}

/** The exported columns, in order: cell, then clean run (trajectory), model and prompt. */
export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  { name: 'cell_id', sql: 'c.id', type: 'INT64' },
  { name: 'sweep_id', sql: 'c."sweepId"', type: 'STRING' },
  { name: 'cell_key', sql: 'c."cellKey"', type: 'STRING' },
  { name: 'work_unit_id', sql: 'c."workUnitId"', type: 'STRING' },
  { name: 'model_id', sql: 'c."modelId"', type: 'STRING' },
  { name: 'model_name', sql: 'm.name', type: 'STRING' },
  { name: 'model_sha256', sql: 'm.sha256', type: 'STRING' },
  { name: 'prompt_id', sql: 'c."promptId"', type: 'STRING' },
  { name: 'dataset', sql: 'p.dataset', type: 'STRING' },
  { name: 'prompt_idx', sql: 'p.idx', type: 'INT32' },
  { name: 'prompt_text', sql: 'p.text', type: 'STRING' },
  { name: 'gold_answer', sql: 'p."goldAnswer"', type: 'STRING' },
  { name: 'seed', sql: 'c.seed', type: 'INT32' },
  { name: 'kind', sql: 'c.kind', type: 'STRING' },
  { name: 'variant', sql: 'c.variant', type: 'STRING' },
  { name: 'token', sql: 'c.token', type: 'INT32' },
  { name: 'step', sql: 'c.step', type: 'INT32' },
  { name: 'position', sql: 'c.position', type: 'INT32' },
  { name: 'span', sql: 'c.span', type: 'STRING' },
  { name: 'total_steps', sql: 't."steps"', type: 'INT32' },
  { name: 'step_frac', sql: `c.step::float8 / NULLIF(t."steps", 0)`, type: 'DOUBLE' },
  { name: 'answer_committed_before', sql: 'c."answerCommittedBefore"', type: 'BOOLEAN' },
  { name: 'flipped', sql: 'c.flipped', type: 'BOOLEAN' },
  { name: 'correct', sql: 'c.correct', type: 'BOOLEAN' },
  { name: 'skipped', sql: 'c.skipped', type: 'BOOLEAN' },
  { name: 'noop', sql: 'c.noop', type: 'BOOLEAN' },
  { name: 'stopped_early', sql: 'c."stoppedEarly"', type: 'BOOLEAN' },
  { name: 'answer_outcome', sql: 'c."answerOutcome"', type: 'STRING' },
  { name: 'final_answer', sql: 'c."finalAnswer"', type: 'STRING' },
  { name: 'final_text', sql: 'c."finalText"', type: 'STRING' },
  { name: 'partial_text', sql: 'c."partialText"', type: 'STRING' },
  { name: 'changed_tokens', sql: 'c."changedTokens"', type: 'INT32' },
  { name: 'compute_steps', sql: 'c."computeSteps"', type: 'INT32' },
  { name: 'duration_ms', sql: 'c."durationMs"', type: 'INT32' },
  // Sampler settings: the Trajectory's typed columns, the one place they are stored.
  { name: 'gen_length', sql: 't."genLength"', type: 'INT32' },
  { name: 'block_length', sql: 't."blockLength"', type: 'INT32' },
  { name: 'remasking', sql: 't."remasking"', type: 'STRING' },
  { name: 'temperature', sql: 't."temperature"', type: 'DOUBLE' },
  { name: 'prompt_length', sql: 't."promptLength"', type: 'INT32' },
  { name: 'clean_answer', sql: 't.answer', type: 'STRING' },
  { name: 'clean_correct', sql: 't.correct', type: 'BOOLEAN' },
  { name: 'clean_final_text', sql: 't."finalText"', type: 'STRING' },
  { name: 'cot_start', sql: 't."cotStart"', type: 'INT32' },
  { name: 'cot_end', sql: 't."cotEnd"', type: 'INT32' },
  { name: 'answer_start', sql: 't."answerStart"', type: 'INT32' },
  { name: 'answer_end', sql: 't."answerEnd"', type: 'INT32' },
  { name: 'answer_commit_step', sql: 't."answerCommitStep"', type: 'INT32' },
  { name: 'cot_commit_step', sql: 't."cotCommitStep"', type: 'INT32' },
];

/** The export's SQL ($1 = sweep id), in cell id order. */
export const EXPORT_SQL = `SELECT ${EXPORT_COLUMNS.map((c) => `${c.sql} AS ${c.name}`).join(', ')}
  FROM "Cell" c
  JOIN "Model" m ON m.id = c."modelId"
  JOIN "Prompt" p ON p.id = c."promptId"
  LEFT JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId"
  WHERE c."sweepId" = $1
  ORDER BY c.id`;

function toParquet(v: unknown, type: BasicType): unknown {
  if (v === null || v === undefined) return null;
  // pg returns int8 as a string; Parquet INT64 takes bigint.
  if (type === 'INT64') return BigInt(v as string | number);
  return v;
}

function partialPath(out: string): string {
  return `${out}.partial-${process.pid}`;
}

/**
 * Writes every cell of `sweepId` to `opts.out`. Throws `BAD_ARGS` when the output folder
 * does not exist or the output is a folder (before reading anything), `OUTPUT_FAILED` when
 * writing fails (the partial file is removed).
 */
export async function exportSweep(client: pg.Client, sweepId: string, opts: ExportOptions): Promise<ExportResult> {
  const dir = dirname(opts.out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `the output folder ${dir} does not exist`, { hint: 'create it first' });
  if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--out ${opts.out} is a folder`, { hint: 'give a file name' });
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  const groupSize = opts.rowGroupSize ?? DEFAULT_ROW_GROUP;
  const tmp = partialPath(opts.out);
  const cursor = client.query(new Cursor(EXPORT_SQL, [sweepId]));
  let sqlFailed = false;
  const next = async (): Promise<Record<string, unknown>[]> => {
    try {
      return (await cursor.read(batch)) as Record<string, unknown>[];
    } catch (err) {
      sqlFailed = true;
      throw new FaithsweepError(ErrorCode.QUERY_FAILED, `reading the cells failed: ${(err as Error).message}`, { cause: err });
    }
  };
  try {
    const result = opts.format === 'csv' ? await writeCsv(tmp, next) : await writeParquet(tmp, next, groupSize);
    renameSync(tmp, opts.out);
    return { ...result, bytes: statSync(opts.out).size, columns: EXPORT_COLUMNS.map((c) => c.name) };
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof FaithsweepError) throw err;
    throw new FaithsweepError(ErrorCode.OUTPUT_FAILED, `writing ${opts.out} failed: ${(err as Error).message}`, { hint: 'check the path and free disk space', cause: err });
  } finally {
    if (!sqlFailed) await cursor.close().catch(() => undefined);
  }
}

type Next = () => Promise<Record<string, unknown>[]>;
type Written = Omit<ExportResult, 'bytes' | 'columns'>;

async function writeCsv(path: string, next: Next): Promise<Written> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const write = async (s: string) => {
    if (!out.write(s)) await Promise.race([once(out, 'drain'), failed]);
  };
  let rows = 0;
  let maxBuffered = 0;
  await write(csvLine(EXPORT_COLUMNS.map((c) => c.name)) + '\n');
  for (;;) {
    const batch = await next();
    maxBuffered = Math.max(maxBuffered, batch.length);
    if (batch.length === 0) break;
    await write(batch.map((r) => csvLine(EXPORT_COLUMNS.map((c) => r[c.name])) + '\n').join(''));
    rows += batch.length;
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { rows, rowGroups: 0, maxBufferedRows: maxBuffered };
}

async function writeParquet(path: string, next: Next, groupSize: number): Promise<Written> {
  const emptyColumns = (): ColumnSource[] => EXPORT_COLUMNS.map((c) => ({ name: c.name, type: c.type, data: [] as unknown[] }) as ColumnSource);
  const schema = schemaFromColumnData({ columnData: emptyColumns() });
  const writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: 'faithsweep export (hyparquet-writer)' });
  let buffer = EXPORT_COLUMNS.map(() => [] as unknown[]);
  let buffered = 0;
  let rows = 0;
  let rowGroups = 0;
  let maxBuffered = 0;
  const flush = async () => {
    if (buffered === 0) return;
    const columnData = EXPORT_COLUMNS.map((c, i) => ({ name: c.name, type: c.type, data: buffer[i]! }) as ColumnSource);
    await writer.write({ columnData, rowGroupSize: buffered });
    rowGroups++;
    buffer = EXPORT_COLUMNS.map(() => []);
    buffered = 0;
  };
  for (;;) {
    const batch = await next();
    if (batch.length === 0) break;
    for (const r of batch) {
      EXPORT_COLUMNS.forEach((c, i) => buffer[i]!.push(toParquet(r[c.name], c.type)));
      buffered++;
      rows++;
      maxBuffered = Math.max(maxBuffered, buffered);
      if (buffered >= groupSize) await flush();
    }
  }
  await flush();
  await writer.finish();
  return { rows, rowGroups, maxBufferedRows: maxBuffered };
}
