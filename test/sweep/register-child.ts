// Child process of scale.test.ts (and a tool for measuring by hand): plans a spec and
// registers it in a database, as `faithsweep launch` does before it starts the workflow, and
// prints one JSON line: work units, seconds to plan and to register, and the process's peak RSS.
//   node --import tsx test/sweep/register-child.ts SPEC DATABASE_URL
import pg from 'pg';
import { resolvePaths } from '../../common/config/paths.ts';
import { readSpec } from '../../orchestrator/cli/commands/services.ts';
import { planSweep } from '../../orchestrator/sweep/plan.ts';
import { registerSweep } from '../../orchestrator/sweep/register.ts';

const [specFile, databaseUrl] = process.argv.slice(2);
if (!specFile || !databaseUrl) throw new Error('usage: register-child.ts SPEC DATABASE_URL');
const t0 = performance.now();
const { spec, path } = readSpec(specFile);
const plan = await planSweep(spec, { specPath: path, modelsDir: resolvePaths(process.env).modelsDir });
const t1 = performance.now();
const sql = new pg.Client({ connectionString: databaseUrl });
await sql.connect();
try {
  const reg = await registerSweep(sql, plan);
  const t2 = performance.now();
  process.stdout.write(`${JSON.stringify({
    workUnits: reg.workUnits, created: reg.created, planSeconds: (t1 - t0) / 1000, registerSeconds: (t2 - t1) / 1000,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`);
} finally {
  await sql.end();
}
