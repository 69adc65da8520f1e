// The test command behind `npm test`: starts the test stack (PostgreSQL + NATS under
// .faithsweep/test), runs every *.test.ts with Node's test runner, one file at a time
// (integration tests share two CPU cores and the services), then stops the stack it
// started. Extra arguments are test files or name filters: `npm run test:only -- test/smoke.test.ts`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';
import { testStack } from '../test/helpers/stack.ts';

const ROOTS = ['common', 'orchestrator', 'node-agent', 'workflows', 'test'];

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    // test/models-venv needs the hand-built PyTorch venv (models/.venv, several GB, not part of
    // set-up): its own command, `npm run test:models-venv`, runs it (README "Testing").
    if (n === 'node_modules' || n === 'fixtures' || n === 'models-venv') return [];
    return statSync(p).isDirectory() ? testFiles(p) : n.endsWith('.test.ts') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const files = (args.length ? args : ROOTS.map((r) => join(REPO_ROOT, r)).filter(existsSync).flatMap(testFiles)).map((f) => relative(REPO_ROOT, f)).sort();

const stack = await testStack();
const before = await stack.status();
const wasRunning = before.every((s) => s.health.state === 'healthy');
process.stderr.write(`tests: ${wasRunning ? 'attaching to' : 'starting'} the test stack (PostgreSQL, NATS)…\n`);
await stack.up();

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, FAITHSWEEP_TESTING: '1' } },
  );
  child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
});

if (!wasRunning && !process.env['FAITHSWEEP_KEEP_TEST_STACK']) await stack.down();
process.exit(code);
