/** The Prisma client over node-postgres (no engine binary needed). */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client.ts';

export type { PrismaClient } from '../../generated/prisma/client.ts';

/** Options of the database client. */
export interface DbOptions {
  /** PostgreSQL connection URL. */
  readonly url: string;
  /** Max pooled connections. @default 10 */
  readonly poolSize?: number;
}

/** Creates a Prisma client; call `$disconnect()` when done. */
export function createDb(opts: DbOptions): PrismaClient {
  const adapter = new PrismaPg({ connectionString: opts.url, max: opts.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
