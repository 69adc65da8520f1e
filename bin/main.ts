/**
 * Entry point of the `faithsweep` CLI and its composition root: the one module that imports
 * both the orchestrator's commands (orchestrator/cli/commands/) and the agent's
 * (node-agent/cli/), and gives each what it needs from the other side. Everything below it
 * keeps the boundary of docs/architecture.md (lint-enforced).
 */
import { dispatch, group } from '../common/cli/command.ts';
import { contextFromEnv } from '../common/cli/context.ts';
import { devCommands } from '../orchestrator/cli/commands/dev.ts';
import { dbCommands } from '../orchestrator/cli/commands/db.ts';
import { demoCommand } from '../orchestrator/cli/commands/demo.ts';
import { sampleCommand } from '../node-agent/cli/sample-command.ts';
import { sweepCommands } from '../orchestrator/cli/commands/sweep.ts';
import { workerCommand } from '../orchestrator/cli/commands/worker.ts';
import { queryCommand } from '../orchestrator/cli/commands/query.ts';
import { exportCommand } from '../orchestrator/cli/commands/export.ts';
import { reportCommand } from '../orchestrator/cli/commands/report.ts';
import { tokenizeCommand } from '../orchestrator/cli/commands/tokenize.ts';
import { localStackNatsUrl } from '../orchestrator/cli/commands/stack-from-context.ts';
import { createAgentCommand } from '../node-agent/cli/agent-command.ts';
import { formatError, isFaithsweepError } from '../common/errors.ts';

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
  createAgentCommand({ localNatsUrl: localStackNatsUrl }),
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
