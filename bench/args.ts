/**
 * Flags of the benchmarks (`npm run bench…`), parsed with node:util parseArgs: `--help` prints
 * the benchmark's summary and flags and exits 0; an unknown flag, a missing value or a number
 * out of range prints a coded one-line error (BAD_ARGS) with a hint and exits 2, before
 * anything is started.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** One flag: its parseArgs type and default, a line of help, and for numbers their range. */
export interface BenchOption {
  readonly type: 'string' | 'boolean';
  readonly default?: string | boolean;
  readonly help: string;
  /** The value must be a number in [min, max] (an integer unless `fraction`). */
  readonly number?: { readonly min: number; readonly max?: number; readonly fraction?: boolean };
}

type Values<O extends Record<string, BenchOption>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

function fail(script: string, message: string): never {
  process.stderr.write(`error[BAD_ARGS]: ${message}\n  hint: run 'npm run ${script} -- --help'\n`);
  process.exit(2);
}

/**
 * Parses `process.argv` for the benchmark run as `npm run <script>`. `summary`: the lines
 * printed above the flags by `--help`.
 */
export function benchArgs<const O extends Record<string, BenchOption>>(script: string, summary: readonly string[], options: O): Values<O> {
  const config = Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.default !== undefined ? { default: o.default } : {}) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({ options: { ...config, help: { type: 'boolean' } } as NonNullable<ParseArgsConfig['options']>, strict: true, allowPositionals: false });
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (err) {
    fail(script, (err as Error).message.split('\n')[0]!);
  }
  if (values['help']) {
    const width = Math.max(...Object.keys(options).map((k) => k.length + (options[k]!.type === 'string' ? 4 : 0))) + 4;
    const lines = [`npm run ${script} -- [flags]`, '', ...summary, '', 'Flags:'];
    for (const [k, o] of Object.entries(options)) {
      const name = `--${k}${o.type === 'string' ? ' X' : ''}`;
      lines.push(`  ${name.padEnd(width)}${o.help}${o.default !== undefined && o.type === 'string' ? ` (default ${String(o.default)})` : ''}`);
    }
    lines.push(`  ${'--help'.padEnd(width)}this text`);
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exit(0);
  }
  for (const [k, o] of Object.entries(options)) {
    const raw = values[k];
    if (!o.number || raw === undefined) continue;
    const text = String(raw);
    const n = (o.number.fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(text) ? Number(text) : NaN;
    const max = o.number.max ?? Number.MAX_SAFE_INTEGER;
    if (!(n >= o.number.min && n <= max)) {
      fail(script, `--${k} must be ${o.number.fraction ? 'a number' : 'an integer'} in [${o.number.min}, ${max}] (got '${text}')`);
    }
  }
  return values as Values<O>;
}
