/** Builds the local stack from a CLI context (tools are located by scripts/setup). */
import type { CliContext } from '../../../common/cli/context.ts';
import { loadTools } from '../../config/tools.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { createLocalStack, endpointsFor, loadOrAllocatePorts } from '../../dev/stack.ts';
import type { LocalStack } from '../../dev/stack.ts';

/** The stack configured by the environment of `ctx`. */
export function stackFromContext(ctx: CliContext): Promise<LocalStack> {
  return createLocalStack({ home: ctx.paths.home, cacheDir: ctx.paths.cacheDir, tools: loadTools(ctx.paths.home, ctx.tools, ctx.paths.cacheDir), external: ctx.external });
}

/**
 * The NATS URL of the local stack of `ctx` (`faithsweep dev up`), for commands given neither
 * --nats nor NATS_URL. Throws SERVICE_UNAVAILABLE when the local stack was never started.
 */
export async function localStackNatsUrl(ctx: CliContext): Promise<string> {
  if (!existsSync(join(ctx.paths.home, 'stack.json'))) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, 'no NATS: --nats is not given, NATS_URL is not set and the local stack was never started', {
      hint: "run 'npx faithsweep dev up' first, or pass --nats URL",
    });
  }
  return endpointsFor(await loadOrAllocatePorts(ctx.paths.home), ctx.external).natsUrl;
}
