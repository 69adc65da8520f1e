/** Database connections for the results commands: read-only by default at the session level too. */
import pg from 'pg';
import { ErrorCode, FaithsweepError } from '../errors.ts';
import { redact } from '../dev/stack.ts';

/** Connection timeout: the database is local or a managed service; anything slower is down. */
const CONNECT_TIMEOUT_MS = 5000;

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
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to ${redact(url)}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix DATABASE_URL",
      cause: err,
    });
  }
  // A dropped connection would otherwise be an unhandled 'error' event.
  client.on('error', () => undefined);
  return client;
}
