// The migration applier against a real PostgreSQL: idempotent, all-or-nothing per
// migration, Prisma-compatible bookkeeping, and the schema usable through Prisma.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { applyMigrations, readMigrations } from '../../orchestrator/db/migrate.ts';
import { FaithsweepError } from '../../common/errors.ts';
import { silentLogger } from '../../common/log.ts';
import { emptyDatabase } from '../helpers/db.ts';

const migrationsDir = resolvePaths(process.env).migrationsDir;

async function withEmptyDb<T>(label: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const db = await emptyDatabase(label);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
    await db.drop();
  }
}

async function tables(client: pg.Client): Promise<string[]> {
  const r = await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return r.rows.map((x) => x.t);
}

function migrationsFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fs-migrations-'));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe('the migration applier', () => {
  it('applies the project migrations once; a second run applies nothing', async () => {
    await withEmptyDb('twice', async (client) => {
      const migrations = readMigrations(migrationsDir);
      const first = await applyMigrations(client, migrations, silentLogger);
      assert.deepEqual(first.applied, migrations.map((m) => m.name));
      const second = await applyMigrations(client, migrations, silentLogger);
      assert.deepEqual(second.applied, []);
      assert.deepEqual(second.alreadyApplied, migrations.map((m) => m.name));
      assert.deepEqual(await tables(client), ['Cell', 'Model', 'Prompt', 'Sweep', 'Trajectory', 'WorkUnit', '_prisma_migrations']);
    });
  });

  it("records each migration in _prisma_migrations the way Prisma does (sha256 of migration.sql, finished, one step)", async () => {
    await withEmptyDb('bookkeeping', async (client) => {
      await applyMigrations(client, readMigrations(migrationsDir), silentLogger);
      const r = await client.query('SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at, applied_steps_count, length(id) AS id_len FROM "_prisma_migrations"');
      const name = readMigrations(migrationsDir)[0]!.name;
      const expected = createHash('sha256').update(readFileSync(join(migrationsDir, name, 'migration.sql'))).digest('hex');
      assert.deepEqual(r.rows[0], { migration_name: name, checksum: expected, finished: true, rolled_back_at: null, applied_steps_count: 1, id_len: 36 });
    });
  });

  it('rolls a failing migration back entirely and keeps the ones before it', async () => {
    const dir = migrationsFolder({
      '20260101000000_a': 'CREATE TABLE "A" (x INT);',
      '20260102000000_b': 'CREATE TABLE "B" (x INT);\nINSERT INTO "B" VALUES (1);\nINSERT INTO "NoSuchTable" VALUES (1);',
    });
    try {
      await withEmptyDb('rollback', async (client) => {
        await assert.rejects(applyMigrations(client, readMigrations(dir), silentLogger), (err: unknown) => {
          assert.ok(err instanceof FaithsweepError);
          assert.equal(err.code, 'MIGRATION_FAILED');
          assert.match(err.message, /20260102000000_b/);
          return true;
        });
        assert.deepEqual(await tables(client), ['A', '_prisma_migrations']);
        const r = await client.query('SELECT migration_name FROM "_prisma_migrations"');
        assert.deepEqual(r.rows, [{ migration_name: '20260101000000_a' }]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to continue when an applied migration was edited', async () => {
    const dir = migrationsFolder({ '20260101000000_a': 'CREATE TABLE "A" (x INT);' });
    try {
      await withEmptyDb('modified', async (client) => {
        await applyMigrations(client, readMigrations(dir), silentLogger);
        writeFileSync(join(dir, '20260101000000_a', 'migration.sql'), 'CREATE TABLE "A" (x BIGINT);');
        await assert.rejects(applyMigrations(client, readMigrations(dir), silentLogger), { code: 'MIGRATION_MODIFIED' });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
