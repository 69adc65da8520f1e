/**
 * Runs one user-supplied SQL statement so that it cannot change anything: a READ ONLY
 * transaction that is always rolled back, a statement timeout, and the extended query
 * protocol (through a cursor), which refuses a string holding several statements — so
 * `SELECT 1; COMMIT; DELETE …` cannot smuggle a write past the transaction. Rows stream
 * in batches, so a large result never sits in memory whole.
 */
import Cursor from 'pg-cursor';
import type pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';

/** Options of {@link runReadOnlyQuery}. */
export interface ReadOnlyQueryOptions {
  /** Statement timeout in milliseconds (applies to each fetch). @default 30000 */
  readonly timeoutMs?: number;
  /** Rows fetched per round trip. @default 1000 */
  readonly batchSize?: number;
}

/** A result column. */
export interface ResultColumn {
  readonly name: string;
  /** PostgreSQL type oid (e.g. 23 int4, 701 float8). */
  readonly typeId: number;
}

/** Default statement timeout: long enough for a view over a few million cells, short enough that a runaway join is stopped. */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_BATCH = 1000;

// COPY … TO is allowed in read-only transactions but writes server-side files (or runs
// programs, for superusers): not something a query command should do.
const COPY = /^\s*(?:(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*copy\b/i;

function codedError(err: unknown, timeoutMs: number): FaithsweepError {
  const e = err as { code?: string; message?: string; position?: string };
  const message = e.message ?? String(err);
  if (e.code === '25006') {
    return new FaithsweepError(ErrorCode.QUERY_READ_ONLY, `the query tried to write, and nothing was changed: ${message}`, {
      hint: "faithsweep query only reads; results are written by sweeps (use psql for administrative changes)",
      cause: err,
    });
  }
  if (e.code === '57014') {
    return new FaithsweepError(ErrorCode.QUERY_TIMEOUT, `the query ran past the statement timeout of ${timeoutMs} ms and was cancelled`, {
      hint: 'narrow it (WHERE sweep_name = …), or raise --timeout',
      cause: err,
    });
  }
  if (/multiple commands/i.test(message)) {
    return new FaithsweepError(ErrorCode.QUERY_FAILED, 'the query holds more than one statement', { hint: 'run one statement per call', cause: err });
  }
  return new FaithsweepError(ErrorCode.QUERY_FAILED, `the query failed: ${message}${e.position ? ` (at character ${e.position})` : ''}`, {
    hint: 'the views are documented in docs/sql.md',
    cause: err,
  });
}

function read(cursor: Cursor, n: number): Promise<{ rows: Record<string, unknown>[]; fields: ResultColumn[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => {
      if (err) reject(err);
      else resolve({ rows: rows as Record<string, unknown>[], fields: (result?.fields ?? []).map((f) => ({ name: f.name, typeId: f.dataTypeID })) });
    });
  });
}

/**
 * Runs `text` read-only on `client` (which must not be inside a transaction), calling
 * `onColumns` once and then `onRows` per batch (awaited, so output can apply backpressure).
 * Returns the row count. Throws `QUERY_READ_ONLY` for a write, `QUERY_TIMEOUT` past the
 * timeout, `QUERY_FAILED` for any other SQL error or a COPY statement; in every case the
 * transaction is rolled back.
 */
export async function runReadOnlyQuery(
  client: pg.Client,
  text: string,
  onColumns: (columns: readonly ResultColumn[]) => void | Promise<void>,
  onRows: (rows: readonly Record<string, unknown>[]) => void | Promise<void>,
  opts: ReadOnlyQueryOptions = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new FaithsweepError(ErrorCode.BAD_ARGS, `the timeout must be a positive whole number of milliseconds (got ${timeoutMs})`);
  if (!text.trim()) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'the query is empty');
  if (COPY.test(text)) {
    throw new FaithsweepError(ErrorCode.QUERY_READ_ONLY, 'COPY is not run by faithsweep query (it writes files on the database server)', {
      hint: "use 'faithsweep query --csv', 'faithsweep export', or psql's \\copy",
    });
  }
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let total = 0;
  try {
    await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
    const cursor = client.query(new Cursor(text));
    // After a SQL error the cursor has already synced with the server: closing it then would
    // wait for a second ReadyForQuery that never comes, so only the other paths close it.
    let sqlFailed = false;
    try {
      let first = true;
      for (;;) {
        const { rows, fields } = await read(cursor, batch).catch((err: unknown) => {
          sqlFailed = true;
          throw codedError(err, timeoutMs);
        });
        if (first) {
          // Rows come keyed by column name: a repeated name would silently keep only its last value.
          const repeated = [...new Set(fields.map((f) => f.name).filter((n, i, all) => all.indexOf(n) !== i))];
          if (repeated.length > 0) {
            throw new FaithsweepError(ErrorCode.QUERY_FAILED, `the result has more than one column named ${repeated.map((n) => `'${n}'`).join(', ')}, whose values would overwrite each other`, {
              hint: 'give each column its own name with AS, e.g. SELECT a.id AS a_id, b.id AS b_id',
            });
          }
          await onColumns(fields);
          first = false;
        }
        total += rows.length;
        if (rows.length > 0) await onRows(rows);
        if (rows.length < batch) break;
      }
    } finally {
      if (!sqlFailed) await cursor.close();
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return total;
}
