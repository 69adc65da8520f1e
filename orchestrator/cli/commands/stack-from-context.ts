/** Builds the local stack from a CLI context (tools are located by scripts/setup). */
import type { CliContext } from '../context.ts';
import { loadTools } from '../../config/tools.ts';
import { createLocalStack } from '../../dev/stack.ts';
import type { LocalStack } from '../../dev/stack.ts';

/** The stack configured by the environment of `ctx`. */
export function stackFromContext(ctx: CliContext): Promise<LocalStack> {
  return createLocalStack({ home: ctx.paths.home, cacheDir: ctx.paths.cacheDir, tools: loadTools(ctx.paths.home, ctx.env), external: ctx.external });
}
