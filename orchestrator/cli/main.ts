/** Entry point of the `faithsweep` CLI. */
import { dispatch } from './command.ts';
import { contextFromEnv } from './context.ts';
import { treeFor } from './tree.ts';
import { errorRecord, formatError, isFaithsweepError } from '../errors.ts';

// `faithsweep list | head`: a closed pipe ends the output quietly, as with any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const ctx = contextFromEnv(process.env);
const argv = process.argv.slice(2);
// `--json` asks for machine-readable output: errors too, as `{"error": {code, message, hint}}` on stdout.
const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).some((a) => a === '--json' || a === '--json=true');
try {
  process.exitCode = await dispatch(await treeFor(argv), argv, ctx);
} catch (err) {
  // The one-line message always goes to stderr; with --json the error is also stdout's one object.
  if (json) ctx.out(JSON.stringify({ error: errorRecord(err) }));
  ctx.err(formatError(err));
  if (process.env['FAITHSWEEP_DEBUG'] && err instanceof Error) ctx.err(err.stack ?? '');
  process.exitCode = isFaithsweepError(err) && (err.code === 'BAD_ARGS' || err.code === 'UNKNOWN_COMMAND') ? 2 : 1;
}
