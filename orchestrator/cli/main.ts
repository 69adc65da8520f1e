/** Entry point of the `faithsweep` CLI. */
import { dispatch } from './command.ts';
import { contextFromEnv } from './context.ts';
import { treeFor } from './tree.ts';
import { formatError, isFaithsweepError } from '../errors.ts';

// `faithsweep list | head`: a closed pipe ends the output quietly, as with any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const ctx = contextFromEnv(process.env);
try {
  const argv = process.argv.slice(2);
  process.exitCode = await dispatch(await treeFor(argv), argv, ctx);
} catch (err) {
  ctx.err(formatError(err));
  if (process.env['FAITHSWEEP_DEBUG'] && err instanceof Error) ctx.err(err.stack ?? '');
  process.exitCode = isFaithsweepError(err) && (err.code === 'BAD_ARGS' || err.code === 'UNKNOWN_COMMAND') ? 2 : 1;
}
