/**
 * The services integration tests run against: a PostgreSQL cluster and a NATS server of
 * their own under `.faithsweep/test` (FAITHSWEEP_TEST_HOME), started on first use and
 * shared by every test file of a run (scripts/run-tests.ts stops them at the end).
 * Temporal is per test file: see temporal.ts.
 */
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';
import { loadTools } from '../../orchestrator/config/tools.ts';
import type { Tools } from '../../orchestrator/config/tools.ts';
import { createLocalStack } from '../../orchestrator/dev/stack.ts';
import type { Endpoints, LocalStack } from '../../orchestrator/dev/stack.ts';
import { contextFromEnv } from '../../common/cli/context.ts';

const paths = resolvePaths(process.env);

/** Home of the test stack. */
export const TEST_HOME = process.env['FAITHSWEEP_TEST_HOME'] || join(paths.home, 'test');

/** Program paths located by scripts/setup. */
export function testTools(): Tools {
  return loadTools(paths.home, contextFromEnv(process.env).tools);
}

/** The test stack (PostgreSQL + NATS), not started. */
export function testStack(): Promise<LocalStack> {
  return createLocalStack({
    home: TEST_HOME,
    cacheDir: paths.cacheDir,
    tools: testTools(),
    // Tests always use their own services, whatever the developer's environment says.
    external: {},
    services: ['postgres', 'nats'],
  });
}

let started: Promise<Endpoints> | undefined;

/** Starts (or attaches to) the test stack and returns its endpoints. */
export function ensureTestStack(): Promise<Endpoints> {
  started ??= (async () => {
    const stack = await testStack();
    await stack.up();
    return stack.endpoints;
  })();
  return started;
}
