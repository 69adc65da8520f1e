/**
 * The CLI's command tree, loaded lazily (part of the composition root, bin/main.ts: the one
 * place that imports both the orchestrator's and the agent's commands): importing every command module takes about 3 s (the
 * Temporal worker and client, Prisma, onnxruntime, gRPC), so a run loads only the module of the
 * command it names. `--help` at the top level, or a name that is not a command, loads them all.
 */
import { group } from '../common/cli/command.ts';
import type { Command, Group } from '../common/cli/command.ts';

type Node = Command | Group;
type Loader = () => Promise<readonly Node[]>;

const dev: Loader = async () => [(await import('../orchestrator/cli/commands/dev.ts')).devCommands];
const db: Loader = async () => [(await import('../orchestrator/cli/commands/db.ts')).dbCommands];
const demo: Loader = async () => [(await import('../orchestrator/cli/commands/demo.ts')).demoCommand];
const sweep: Loader = async () => (await import('../orchestrator/cli/commands/sweep.ts')).sweepCommands;
const worker: Loader = async () => [(await import('../orchestrator/cli/commands/worker.ts')).workerCommand];
const sample: Loader = async () => [(await import('../node-agent/cli/sample-command.ts')).sampleCommand];
const query: Loader = async () => [(await import('../orchestrator/cli/commands/query.ts')).queryCommand];
const exportCmd: Loader = async () => [(await import('../orchestrator/cli/commands/export.ts')).exportCommand];
const report: Loader = async () => [(await import('../orchestrator/cli/commands/report.ts')).reportCommand];
const tokenize: Loader = async () => [(await import('../orchestrator/cli/commands/tokenize.ts')).tokenizeCommand];
const agent: Loader = async () => {
  const [{ createAgentCommand }, { localStackNatsUrl }] = await Promise.all([
    import('../node-agent/cli/agent-command.ts'),
    import('../orchestrator/cli/commands/stack-from-context.ts'),
  ]);
  return [createAgentCommand({ localNatsUrl: localStackNatsUrl })];
};

/** The modules in the order `faithsweep --help` lists their commands. */
const MODULES: readonly Loader[] = [dev, db, demo, sweep, worker, sample, query, exportCmd, report, tokenize, agent];

/**
 * Top-level command name → the module that defines it. A test checks that these names are
 * exactly the names the modules define, so the table cannot drift from the commands.
 */
export const COMMAND_MODULES: Readonly<Record<string, Loader>> = {
  dev, db, demo,
  plan: sweep, launch: sweep, status: sweep, watch: sweep, list: sweep, cancel: sweep, resume: sweep,
  worker, sample, query, export: exportCmd, report, tokenize, agent,
};

export const ROOT_SUMMARY = 'faithsweep: causal sweeps of chain-of-thought faithfulness on diffusion language models.';

/** Every command (for top-level help and the tests). */
export async function fullTree(): Promise<Group> {
  const nodes = (await Promise.all(MODULES.map((load) => load()))).flat();
  return group('faithsweep', ROOT_SUMMARY, nodes);
}

/**
 * The tree `dispatch` needs for `argv`: only the named command's module when the first word is
 * a command, otherwise every module (help, unknown commands and options need the full list).
 */
export async function treeFor(argv: readonly string[]): Promise<Group> {
  const head = argv[0];
  const load = head !== undefined && Object.hasOwn(COMMAND_MODULES, head) ? COMMAND_MODULES[head] : undefined;
  if (!load) return fullTree();
  return group('faithsweep', ROOT_SUMMARY, await load());
}
