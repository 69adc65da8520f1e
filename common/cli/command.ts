/**
 * A tiny command tree for the CLI: every command and group has a one-line summary and a
 * usage text, so `--help` works at every level.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context.ts';
import { ErrorCode, FaithsweepError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A leaf command. */
export interface Command<O extends Options = Options> {
  readonly kind: 'command';
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, e.g. `SPEC`; shown in usage. */
  readonly args?: string;
  /** Flags (besides --help and --json, which every command takes). */
  readonly options?: O;
  /** Extra help lines: what each flag does, examples. */
  readonly details?: readonly string[];
  run(ctx: CliContext, input: { values: Record<string, unknown>; positionals: string[] }): Promise<number | void>;
}

/** A group of commands (e.g. `dev up|down|status`). */
export interface Group {
  readonly kind: 'group';
  readonly name: string;
  readonly summary: string;
  readonly children: readonly (Command | Group)[];
}

/** Defines a command with typed options. */
export function command<O extends Options>(c: Omit<Command<O>, 'kind'>): Command {
  return { kind: 'command', ...c } as unknown as Command;
}

/** Defines a group. */
export function group(name: string, summary: string, children: readonly (Command | Group)[]): Group {
  return { kind: 'group', name, summary, children };
}

const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
};

/** Usage text of a node at `path` (e.g. ['faithsweep', 'dev']). */
export function usage(node: Command | Group, path: readonly string[]): string {
  const full = path.join(' ');
  if (node.kind === 'group') {
    const width = Math.max(...node.children.map((c) => c.name.length));
    return [
      `${node.summary}`,
      '',
      `Usage: ${full} <command> [options]`,
      '',
      'Commands:',
      ...node.children.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      `Run '${full} <command> --help' for a command's options.`,
      ...(path.length === 1 ? [`Run '${full} --version' for the version.`] : []),
    ].join('\n');
  }
  const opts = Object.entries({ ...(node.options ?? {}), ...COMMON }).map(([k, v]) => {
    const flag = `--${k}${v.type === 'string' ? ' VALUE' : ''}${v.short ? `, -${v.short}` : ''}`;
    return `  ${flag}`;
  });
  return [
    node.summary,
    '',
    `Usage: ${full}${node.args ? ` ${node.args}` : ''} [options]`,
    ...(node.details?.length ? ['', ...node.details] : []),
    '',
    'Options:',
    ...opts,
  ].join('\n');
}

/**
 * Resolves argv against the tree and runs the command. Returns the exit code.
 * Throws `UNKNOWN_COMMAND` / `BAD_ARGS` for bad input, before anything runs.
 */
export async function dispatch(root: Group, argv: readonly string[], ctx: CliContext): Promise<number> {
  let node: Command | Group = root;
  const path = [root.name];
  let rest = [...argv];
  while (node.kind === 'group') {
    const head = rest[0];
    if (head === undefined || head === '--help' || head === '-h' || head === 'help') {
      ctx.out(usage(node, path));
      return head === undefined ? 2 : 0;
    }
    if (head.startsWith('-')) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, `unknown option '${head}' for '${path.join(' ')}'`, { hint: `run '${path.join(' ')} --help'` });
    }
    const next: Command | Group | undefined = node.children.find((c) => c.name === head);
    if (!next) {
      throw new FaithsweepError(ErrorCode.UNKNOWN_COMMAND, `unknown command '${[...path.slice(1), head].join(' ')}'`, { hint: `run '${path.join(' ')} --help' to list the commands` });
    }
    node = next;
    path.push(head);
    rest = rest.slice(1);
  }
  // An argument that starts with '-' and holds whitespace is never an option (SQL that opens with
  // a `-- comment`, a prompt like '-5 + 3'): pass it as a positional, after '--'.
  if (!rest.includes('--') && rest.some(isDashedText)) rest = [...rest.filter((a) => !isDashedText(a)), '--', ...rest.filter(isDashedText)];
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...(node.options ?? {}), ...COMMON }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, parseErrorMessage(err as Error, rest), { hint: `run '${path.join(' ')} --help'` });
  }
  if (parsed.values['help']) {
    ctx.out(usage(node, path));
    return 0;
  }
  const most = positionalsOf(node);
  if (parsed.positionals.length > most) {
    const extra = parsed.positionals.slice(most).map((p) => `'${p}'`).join(', ');
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `'${path.join(' ')}' takes ${most === 0 ? 'no arguments' : `${most} argument${most > 1 ? 's' : ''} (${node.args})`}: unexpected ${extra}`, {
      hint: `quote a value that has spaces; run '${path.join(' ')} --help'`,
    });
  }
  let code;
  try {
    code = await node.run({ ...ctx, json: Boolean(parsed.values['json']) }, { values: parsed.values, positionals: parsed.positionals });
  } catch (err) {
    // Bad arguments always say where to read about them.
    if (err instanceof FaithsweepError && err.code === ErrorCode.BAD_ARGS && !err.hint) {
      throw new FaithsweepError(err.code, err.message, { hint: `run '${path.join(' ')} --help'`, cause: err.cause });
    }
    throw err;
  }
  return code ?? 0;
}

/** Whether a command-line word starts with '-' but holds whitespace: text, not an option. */
function isDashedText(a: string): boolean {
  return a.startsWith('-') && /\s/.test(a);
}

/**
 * How many positional arguments a command takes: the leading words of its `args` usage that are
 * not flags (`SPEC` → 1, `SWEEP --out report.html` → 1, `--model NAME …` → 0, none → 0).
 */
export function positionalsOf(node: Command): number {
  let n = 0;
  for (const word of (node.args ?? '').split(/\s+/).filter(Boolean)) {
    if (word.startsWith('-') || word.startsWith('(')) break;
    n++;
  }
  return n;
}

/**
 * A one-line message for a node:util parseArgs error. Its "argument is ambiguous" (an option
 * followed by a value that starts with '-', such as `--seed -1`) names neither the value nor the fix.
 */
function parseErrorMessage(err: Error, args: readonly string[]): string {
  const first = err.message.split('\n')[0] ?? 'bad arguments';
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec(first);
  if (!ambiguous) return first;
  const option = ambiguous[1]!;
  const at = args.indexOf(option);
  const value = at >= 0 ? args[at + 1] : undefined;
  if (value === undefined) return first;
  return `option '${option}' is followed by '${value}', which starts with '-': write ${option}=${value} if it is the value`;
}
