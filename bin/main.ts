/**
 * Entry point of the `faithsweep` CLI and its composition root: the one module that imports
 * both the orchestrator's commands (orchestrator/cli/commands/) and the agent's
 * (node-agent/cli/, loaded lazily by ./tree.ts), and gives each what it needs from the other side. Everything below it
 * keeps the boundary of docs/architecture.md (lint-enforced).
 */
import { readFileSync } from 'node:fs';
import { dispatch } from '../common/cli/command.ts';
import { contextFromEnv } from '../common/cli/context.ts';
import { errorRecord, formatError, isFaithsweepError } from '../common/errors.ts';
import { treeFor } from './tree.ts';

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
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    ctx.out(`faithsweep ${pkg.version} (Node.js ${process.versions.node})`);
  } else process.exitCode = await dispatch(await treeFor(argv), argv, ctx);
} catch (err) {
  // The one-line message always goes to stderr; with --json the error is also stdout's one object.
  if (json) ctx.out(JSON.stringify({ error: errorRecord(err) }));
  ctx.err(formatError(err));
  if (process.env['FAITHSWEEP_DEBUG'] && err instanceof Error) ctx.err(err.stack ?? '');
  process.exitCode = isFaithsweepError(err) && (err.code === 'BAD_ARGS' || err.code === 'UNKNOWN_COMMAND') ? 2 : 1;
}
