/** Database connections for the results commands: read-only by default at the session level too. */
import pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { redact } from '../dev/stack.ts';

/** Connection timeout: the database is local or a managed service; anything slower is down. */
const CONNECT_TIMEOUT_MS = 5000;

/** The PostgreSQL role the results commands log in as (created by migration 20261129110000_reader_role). */
export const READER_ROLE = 'faithsweep_reader';

/**
 * The URL of `url`'s database for the {@link READER_ROLE}: same host, port and database,
 * that user, no password (the embedded cluster trusts local connections). For a managed
 * database, give the reader's own URL (with its password) in FAITHSWEEP_QUERY_DATABASE_URL.
 */
export function readerUrl(url: string): string {
  const u = new URL(url);
  u.username = READER_ROLE;
  u.password = '';
  return u.toString();
}

/**
 * Connects a client whose transactions are read-only unless they say otherwise
 * (`default_transaction_read_only`), named `application` in pg_stat_activity. Throws
 * `SERVICE_UNAVAILABLE` when the database cannot be reached.
 */
export async function connectReadOnly(url: string, application: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: application,
    options: '-c default_transaction_read_only=on',
  });
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code === '28000' && new URL(url).username === READER_ROLE) {
      throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot log in as the read-only role ${READER_ROLE}: ${(err as Error).message}`, {
        hint: "run 'npx faithsweep db migrate' (it creates the role), or set FAITHSWEEP_QUERY_DATABASE_URL to a read-only user's URL",
        cause: err,
      });
    }
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to ${redact(url)}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix DATABASE_URL",
      cause: err,
    });
  }
  // A dropped connection would otherwise be an unhandled 'error' event.
  client.on('error', () => undefined);
  return client;
}
