/** The Prisma client over node-postgres (no engine binary needed). */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../generated/prisma/client.ts';

export type { PrismaClient } from '../../generated/prisma/client.ts';

/** Options of the database client. */
export interface DbOptions {
  /** PostgreSQL connection URL. */
  readonly url: string;
  /** Max pooled connections. @default 10 */
  readonly poolSize?: number;
}

/**
 * Creates a Prisma client; call `$disconnect()` when done. The pool survives its server
 * going away: an idle connection that the server closes (a restart) is dropped from the
 * pool, and the next query opens a new one (see {@link survivePoolErrors}).
 */
export function createDb(opts: DbOptions): PrismaClient {
  const pool = survivePoolErrors(new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 }));
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}

/**
 * node-postgres emits `error` on the pool when an *idle* client's connection dies (e.g.
 * "terminating connection due to administrator command" on a PostgreSQL restart), and on the
 * *client itself* when it dies while checked out (e.g. EPIPE while a COPY is being written as
 * PostgreSQL stops). With no listener, Node turns either into an uncaught exception that kills
 * the process. Both only need to be seen: the queries in flight fail on their own promise (and
 * are retried by their caller), the pool discards a dead client when it is released (it is no
 * longer queryable), and later queries reconnect.
 */
export function survivePoolErrors<P extends pg.Pool>(pool: P, onError?: (err: Error) => void): P {
  pool.on('error', (err) => onError?.(err));
  pool.on('connect', (client) => {
    client.on('error', (err) => onError?.(err));
  });
  return pool;
}
