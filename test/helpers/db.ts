/**
 * A fresh, migrated database per test file, so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { createDb } from '../../orchestrator/db/client.ts';
import type { PrismaClient } from '../../orchestrator/db/client.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureTestStack } from './stack.ts';

/** A database created for one test file. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Prisma client on it. */
  readonly db: PrismaClient;
  /** A plain SQL client on it, for reading rows back independently of Prisma. */
  sql: pg.Client;
  /**
   * Replaces `sql` with a new connection (after the server restarted: the outage tests stop
   * PostgreSQL mid-sweep, which ends the old one).
   */
  reconnect(): Promise<void>;
  /** Disconnects and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates an empty database (no migrations applied). */
export async function emptyDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const { databaseUrl } = await ensureTestStack();
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    name,
    url: withDatabase(databaseUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Creates a database, applies every migration, and connects Prisma and pg to it. */
export async function freshDatabase(label: string): Promise<TestDatabase> {
  const empty = await emptyDatabase(label);
  const connectSql = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: empty.url });
    // A server restart ends the connection: an 'error' event, not a crash of the test process.
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const sql = await connectSql();
  await applyMigrations(sql, readMigrations(resolvePaths(process.env).migrationsDir), silentLogger);
  const db = createDb({ url: empty.url, poolSize: 4 });
  const t: TestDatabase = {
    name: empty.name,
    url: empty.url,
    db,
    sql,
    async reconnect() {
      const old = t.sql;
      t.sql = await connectSql();
      await old.end().catch(() => undefined);
    },
    async drop() {
      await db.$disconnect();
      await t.sql.end().catch(() => undefined);
      await empty.drop();
    },
  };
  return t;
}
