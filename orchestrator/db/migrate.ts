/**
 * Applies the SQL migrations in `prisma/migrations/` (Prisma's format). Uses
 * `prisma migrate deploy` when a schema engine is present; otherwise this applier, which
 * keeps `_prisma_migrations` exactly as Prisma does (same table, sha256 checksums of
 * migration.sql, same advisory lock), so either tool can take over from the other.
 * Each migration runs in one transaction: one that fails leaves nothing behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';

/** The advisory lock key Prisma's migrate uses on PostgreSQL, so the two exclude each other. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** One migration directory. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
  /** Hex sha256 of migration.sql, as Prisma records it. */
  readonly checksum: string;
}

/** Outcome of {@link applyMigrations}. */
export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

/** Reads migrations from `dir`, in name order (Prisma names start with a timestamp). */
export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new FaithsweepError(ErrorCode.MIGRATION_FAILED, `migrations folder ${dir} does not exist`);
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'migration.sql')))
    .sort()
    .map((name) => {
      const buf = readFileSync(join(dir, name, 'migration.sql'));
      return { name, sql: buf.toString('utf8'), checksum: createHash('sha256').update(buf).digest('hex') };
    });
}

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id")
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies every migration not yet recorded as finished. Throws `MIGRATION_MODIFIED` when
 * an applied migration's file changed, and `MIGRATION_FAILED` (after rolling that
 * migration back entirely) when one fails.
 */
export async function applyMigrations(client: pg.Client, migrations: readonly Migration[], log: Logger): Promise<MigrateResult> {
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at',
    );
    const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r]));
    const failed = rows.filter((r) => r.finished_at === null);
    if (failed.length > 0) {
      throw new FaithsweepError(ErrorCode.MIGRATION_FAILED, `migration ${failed[0]!.migration_name} is recorded as failed in _prisma_migrations`, {
        hint: 'fix the database by hand, then mark it rolled back (prisma migrate resolve --rolled-back NAME) and migrate again',
      });
    }
    const local = new Set(migrations.map((m) => m.name));
    for (const name of done.keys()) {
      if (!local.has(name)) log.warn('migration applied to the database is missing locally', { migration: name });
    }
    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const m of migrations) {
      const row = done.get(m.name);
      if (row) {
        if (row.checksum !== m.checksum) {
          throw new FaithsweepError(ErrorCode.MIGRATION_MODIFIED, `migration ${m.name} was changed after it was applied (checksum ${m.checksum.slice(0, 12)} ≠ ${row.checksum.slice(0, 12)})`, {
            hint: 'never edit an applied migration: restore it and add a new migration instead',
          });
        }
        alreadyApplied.push(m.name);
        continue;
      }
      await applyOne(client, m);
      log.info('applied migration', { migration: m.name });
      applied.push(m.name);
    }
    return { applied, alreadyApplied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  }
}

async function applyOne(client: pg.Client, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    const id = randomUUID();
    await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [id, m.checksum, m.name]);
    await client.query(m.sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new FaithsweepError(ErrorCode.MIGRATION_FAILED, `migration ${m.name} failed and was rolled back: ${(err as Error).message}`, {
      hint: 'fix the migration SQL; nothing of it was applied',
      cause: err,
    });
  }
}

/** Path of a usable Prisma schema engine (`configured`: PRISMA_SCHEMA_ENGINE_BINARY, when it is one), or null when none is installed. */
export function findSchemaEngine(repoRoot: string, configured: string | undefined): string | null {
  if (configured && existsSync(configured) && statSync(configured).size > 1_000_000) return configured;
  const dir = join(repoRoot, 'node_modules', '@prisma', 'engines');
  if (!existsSync(dir)) return null;
  const engine = readdirSync(dir).find((f) => f.startsWith('schema-engine'));
  return engine ? join(dir, engine) : null;
}

/**
 * Throws SCHEMA_OUTDATED when some migration in `migrations` is not applied to the database
 * behind `client` (commands that write sweeps check this first, so they fail with a hint
 * instead of a missing-column error halfway through).
 */
export async function assertSchemaCurrent(client: Pick<pg.Client, 'query'>, migrations: readonly Migration[]): Promise<void> {
  let applied: Set<string>;
  try {
    const r = await client.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
    applied = new Set(r.rows.map((x) => x.migration_name));
  } catch {
    applied = new Set();
  }
  const pending = migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
  if (pending.length > 0) {
    throw new FaithsweepError(ErrorCode.SCHEMA_OUTDATED, `the database schema is not up to date: ${pending.length} migration(s) pending (${pending.join(', ')})`, {
      hint: "run 'npx faithsweep db migrate'",
    });
  }
}
