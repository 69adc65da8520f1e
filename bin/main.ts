/** Entry point of the `faithsweep` CLI. */
import { dispatch, group } from './command.ts';
import { contextFromEnv } from './context.ts';
import { devCommands } from './commands/dev.ts';
import { dbCommands } from './commands/db.ts';
import { demoCommand } from './commands/demo.ts';
import { sampleCommand } from './commands/sample.ts';
import { sweepCommands } from './commands/sweep.ts';
import { workerCommand } from './commands/worker.ts';
import { queryCommand } from './commands/query.ts';
import { exportCommand } from './commands/export.ts';
import { reportCommand } from './commands/report.ts';
import { tokenizeCommand } from './commands/tokenize.ts';
import { formatError, isFaithsweepError } from '../errors.ts';

const root = group('faithsweep', 'faithsweep: causal sweeps of chain-of-thought faithfulness on diffusion language models.', [
  devCommands,
  dbCommands,
  demoCommand,
  ...sweepCommands,
  workerCommand,
  sampleCommand,
  queryCommand,
  exportCommand,
  reportCommand,
  tokenizeCommand,
  (await import('./commands/agent.ts')).agentCommand,
]);

// `faithsweep list | head`: a closed pipe ends the output quietly, as with any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const ctx = contextFromEnv(process.env);
try {
  process.exitCode = await dispatch(root, process.argv.slice(2), ctx);
} catch (err) {
  ctx.err(formatError(err));
  if (process.env['FAITHSWEEP_DEBUG'] && err instanceof Error) ctx.err(err.stack ?? '');
  process.exitCode = isFaithsweepError(err) && (err.code === 'BAD_ARGS' || err.code === 'UNKNOWN_COMMAND') ? 2 : 1;
}
