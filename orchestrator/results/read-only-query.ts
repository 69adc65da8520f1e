/**
 * Runs one user-supplied SQL statement so that it cannot change anything: a READ ONLY
 * transaction that is always rolled back, a time limit, and the extended query
 * protocol (through a cursor), which refuses a string holding several statements — so
 * `SELECT 1; COMMIT; DELETE …` cannot smuggle a write past the transaction. Rows stream
 * in batches, so a large result never sits in memory whole.
 *
 * The time limit is kept twice: the server's `statement_timeout` (per fetch), and a client
 * deadline on the statement's whole time (all fetches together), which cancels it with the
 * protocol's cancel request (node-postgres `Client.cancel`; no privilege needed). The query
 * itself can switch the first off (`set_config('statement_timeout', '0', true)`), not the second.
 */
import Cursor from 'pg-cursor';
import pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';

/** Options of {@link runReadOnlyQuery}. */
export interface ReadOnlyQueryOptions {
  /** Time limit in milliseconds on the whole statement, from its first fetch to its last. @default 30000 */
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

/** Largest time limit: PostgreSQL's statement_timeout is an int4 of milliseconds. */
export const MAX_QUERY_TIMEOUT_MS = 2_147_483_647;

/**
 * The statement's first keyword, lower-case, after whitespace and comments as PostgreSQL's
 * lexer (scan.l) reads them: `--` to the end of the line (`\n` or `\r`), and `/* … *\/`
 * nested. '' when none.
 */
export function leadingKeyword(text: string): string {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith('--', i)) {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (text.startsWith('/*', i)) {
      let depth = 0;
      while (i < text.length) {
        if (text.startsWith('/*', i)) { depth++; i += 2; } else if (text.startsWith('*/', i)) { depth--; i += 2; if (depth === 0) break; } else i++;
      }
    } else break;
  }
  return (/^[a-z_]+/i.exec(text.slice(i))?.[0] ?? '').toLowerCase();
}

/** The parts of node-postgres's protocol connection (pg.Connection, untyped) a cancel request uses. */
interface ProtocolConnection {
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  on(event: 'connect' | 'error', f: (...args: unknown[]) => void): void;
}

/**
 * Sends PostgreSQL's CancelRequest for `client`'s running statement, from a second
 * connection to the same server (the protocol's way, as node-postgres's own `Client.cancel`,
 * which is not used because it reads the deprecated `activeQuery`). Fire and forget: the
 * server closes that connection at once, and the statement fails with SQLSTATE 57014.
 */
function sendCancelRequest(client: pg.Client): void {
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
  const con = new (pg as unknown as { Connection: new () => ProtocolConnection }).Connection();
  con.on('connect', () => con.cancel(processID, secretKey));
  con.on('error', () => undefined);
  // The server closes the connection once it has the request; a server that never answers
  // (unreachable, a proxy that drops it) must not keep this process alive.
  const stream = (con as unknown as { stream?: { setTimeout?(ms: number, f: () => void): void; destroy?(): void; unref?(): void } }).stream;
  stream?.setTimeout?.(5000, () => stream.destroy?.());
  stream?.unref?.();
  if (client.host.startsWith('/')) con.connect(`${client.host}/.s.PGSQL.${client.port}`);
  else con.connect(client.port, client.host);
}

function codedError(err: unknown, timeoutMs: number, deadlineHit: boolean): FaithsweepError {
  const e = err as { code?: string; message?: string; position?: string };
  const message = e.message ?? String(err);
  if (e.code === '25006') {
    return new FaithsweepError(ErrorCode.QUERY_READ_ONLY, `the query tried to write, and nothing was changed: ${message}`, {
      hint: "faithsweep query only reads; results are written by sweeps (use psql for administrative changes)",
      cause: err,
    });
  }
  if (e.code === '57014' && (deadlineHit || /statement timeout/i.test(message))) {
    return new FaithsweepError(ErrorCode.QUERY_TIMEOUT, `the query ran past the time limit of ${timeoutMs} ms and was cancelled`, {
      hint: 'narrow it (WHERE sweep_name = …), or raise --timeout',
      cause: err,
    });
  }
  if (e.code === '57014' || e.code === '57P01') {
    return new FaithsweepError(ErrorCode.QUERY_FAILED, `the query was stopped by the database server or an administrator, not by its time limit: ${message}`, {
      hint: 'run it again; if it keeps happening, ask who administers the database',
      cause: err,
    });
  }
  if (e.code === '42501') {
    return new FaithsweepError(ErrorCode.QUERY_FAILED, `the query needs a privilege the results reader does not have: ${message}`, {
      hint: 'faithsweep query runs as a read-only role that may SELECT from the tables and views only (docs/sql.md)',
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
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_QUERY_TIMEOUT_MS) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `the time limit must be a whole number of milliseconds in 1..${MAX_QUERY_TIMEOUT_MS} (got ${timeoutMs})`);
  }
  if (!text.trim()) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'the query is empty');
  if (leadingKeyword(text) === 'copy') {
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
    // The statement's wall time from its first fetch, as PostgreSQL's statement_timeout counts
    // it (armed once per statement, running on while the portal waits between fetches).
    const deadline = performance.now() + timeoutMs;
    let deadlineHit = false;
    const fetch = async (): Promise<Awaited<ReturnType<typeof read>>> => {
      if (performance.now() >= deadline) {
        deadlineHit = true;
        throw codedError(Object.assign(new Error('time limit reached between fetches'), { code: '57014' }), timeoutMs, true);
      }
      const timer = setTimeout(() => {
        deadlineHit = true;
        sendCancelRequest(client);
      }, Math.max(0, deadline - performance.now()));
      try {
        return await read(cursor, batch);
      } catch (err) {
        sqlFailed = true;
        throw codedError(err, timeoutMs, deadlineHit);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      let first = true;
      for (;;) {
        const { rows, fields } = await fetch();
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
