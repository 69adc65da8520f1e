/** `faithsweep db migrate|status`: the database schema. */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { command, group } from '../../../common/cli/command.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { applyMigrations, findSchemaEngine, readMigrations } from '../../db/migrate.ts';
import { createLogger } from '../../../common/log.ts';
import { redact } from '../../dev/stack.ts';
import { databaseUrlFor } from './endpoints.ts';

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to ${redact(url)}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix DATABASE_URL",
    });
  }
  return client;
}

const migrate = command({
  name: 'migrate',
  summary: 'Apply the SQL migrations in prisma/migrations/ (a no-op when all are applied)',
  options: { engine: { type: 'string' } },
  details: [
    '--engine auto|prisma|builtin   prisma: `prisma migrate deploy` (needs the schema engine);',
    '                                builtin: faithsweep\'s applier (same _prisma_migrations bookkeeping);',
    '                                auto (default): prisma when a schema engine is installed, else builtin.',
  ],
  async run(ctx, { values }) {
    const engine = (values['engine'] as string | undefined) ?? 'auto';
    if (!['auto', 'prisma', 'builtin'].includes(engine)) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, `--engine must be auto, prisma or builtin (got '${engine}')`);
    }
    const url = await databaseUrlFor(ctx);
    const schemaEngine = findSchemaEngine(ctx.paths.repoRoot, ctx.tools.prismaSchemaEngine);
    if (engine === 'prisma' || (engine === 'auto' && schemaEngine)) {
      if (!schemaEngine) throw new FaithsweepError(ErrorCode.TOOL_MISSING, 'no Prisma schema engine is installed', { hint: 'use --engine builtin' });
      const r = spawnSync('npx', ['prisma', 'migrate', 'deploy'], { cwd: ctx.paths.repoRoot, stdio: 'inherit', env: ctx.childEnv({ DATABASE_URL: url }) });
      return r.status ?? 1;
    }
    const log = createLogger({ json: ctx.json, write: ctx.err });
    const client = await connect(url);
    try {
      const result = await applyMigrations(client, readMigrations(ctx.paths.migrationsDir), log);
      if (ctx.json) ctx.out(JSON.stringify(result));
      else ctx.out(result.applied.length === 0 ? `database is up to date (${result.alreadyApplied.length} migrations applied earlier)` : `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`);
    } finally {
      await client.end();
    }
  },
});

const status = command({
  name: 'status',
  summary: 'List migrations and whether each is applied',
  async run(ctx) {
    const url = await databaseUrlFor(ctx);
    const client = await connect(url);
    try {
      const exists = await client.query(`SELECT to_regclass('"_prisma_migrations"') AS t`);
      const applied = new Map<string, string>();
      if (exists.rows[0]?.t) {
        const r = await client.query<{ migration_name: string; checksum: string }>('SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
        for (const row of r.rows) applied.set(row.migration_name, row.checksum);
      }
      const rows = readMigrations(ctx.paths.migrationsDir).map((m) => ({
        name: m.name,
        state: !applied.has(m.name) ? 'pending' : applied.get(m.name) === m.checksum ? 'applied' : 'modified',
      }));
      if (ctx.json) ctx.out(JSON.stringify(rows));
      else for (const r of rows) ctx.out(`${r.state.padEnd(8)} ${r.name}`);
      return rows.every((r) => r.state === 'applied') ? 0 : 3;
    } finally {
      await client.end();
    }
  },
});

/** The `db` command group. */
export const dbCommands = group('db', 'The results database (PostgreSQL, schema managed by migrations)', [migrate, status]);
