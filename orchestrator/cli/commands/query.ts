/** `faithsweep query "SQL"`: one read-only SQL statement, printed as a table, CSV or JSON. */
import { command } from '../../../common/cli/command.ts';
import { parseIntFlag } from '../../../common/cli/int-flag.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { connectReadOnly } from '../../results/connect.ts';
import { csvLine, jsonRow, tableLines } from '../../results/format.ts';
import { DEFAULT_QUERY_TIMEOUT_MS, MAX_QUERY_TIMEOUT_MS, runReadOnlyQuery } from '../../results/read-only-query.ts';
import type { ResultColumn } from '../../results/read-only-query.ts';
import { readerDatabaseUrlFor } from './endpoints.ts';

/** Rows an aligned table holds at most (it must see every row to align): beyond, use --csv/--json, which stream. */
const DEFAULT_MAX_TABLE_ROWS = 10_000;

/** --timeout in seconds, decimal (fractions allowed), into whole milliseconds in 1..MAX_QUERY_TIMEOUT_MS. */
function timeoutFlag(raw: unknown): number {
  if (raw === undefined) return DEFAULT_QUERY_TIMEOUT_MS;
  const text = String(raw);
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : NaN;
  if (!(ms >= 1 && ms <= MAX_QUERY_TIMEOUT_MS)) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `--timeout must be a number of seconds from 0.001 to ${Math.floor(MAX_QUERY_TIMEOUT_MS / 1000)} (got '${text}')`, {
      hint: 'e.g. --timeout 120; the SQL goes after the flags, quoted',
    });
  }
  return ms;
}

export const queryCommand = command({
  name: 'query',
  summary: 'Run one read-only SQL statement on the results database and print the rows',
  args: '"SQL"',
  options: {
    csv: { type: 'boolean' },
    timeout: { type: 'string' },
    'max-rows': { type: 'string' },
  },
  details: [
    'Runs in a READ ONLY transaction that is always rolled back, one statement per call:',
    'a write (INSERT, UPDATE, DELETE, DROP, …) fails with error QUERY_READ_ONLY and changes nothing.',
    'The views (flip_rate_step_position, flip_rate_by_step, flip_rate_by_position, flip_rate_by_span,',
    'answer_commit, answer_commit_summary, early_answering_curve, early_answering_aoc, sweep_summary,',
    'cell_results) are documented with examples in docs/sql.md.',
    '',
    '--csv              print CSV (header + rows, streamed)',
    '--json             print a JSON array of row objects (streamed)',
    `--timeout SECONDS  time limit on the database's work for the whole result (default ${DEFAULT_QUERY_TIMEOUT_MS / 1000})`,
    `--max-rows N       rows an aligned table shows at most (default ${DEFAULT_MAX_TABLE_ROWS}); --csv/--json print all`,
    '',
    'Example: faithsweep query "SELECT model_name, n, flips, flip_rate FROM flip_rate_by_span',
    "          WHERE sweep_name = 'demo' AND kind = 'all' AND span = 'cot' AND phase = 'pre_commit'\"",
  ],
  async run(ctx, { values, positionals }) {
    // First: a flag that swallowed the SQL (`--timeout "SELECT …"`) is named as such.
    const timeoutMs = timeoutFlag(values['timeout']);
    if (positionals.length !== 1 || !positionals[0]!.trim()) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, 'query takes exactly one SQL statement (quote it)', { hint: `e.g. faithsweep query "SELECT * FROM sweep_summary"` });
    }
    if (values['csv'] && ctx.json) throw new FaithsweepError(ErrorCode.BAD_ARGS, '--csv and --json exclude each other');
    const maxRows = parseIntFlag('max-rows', values['max-rows'], { min: 1, what: 'a positive integer' }) ?? DEFAULT_MAX_TABLE_ROWS;
    const client = await connectReadOnly(await readerDatabaseUrlFor(ctx), 'faithsweep query');
    try {
      let columns: readonly ResultColumn[] = [];
      if (values['csv']) {
        await runReadOnlyQuery(client, positionals[0]!, (cols) => {
          columns = cols;
          ctx.out(csvLine(cols.map((c) => c.name)));
        }, (rows) => {
          for (const r of rows) ctx.out(csvLine(columns.map((c) => r[c.name])));
        }, { timeoutMs });
        return 0;
      }
      if (ctx.json) {
        let n = 0;
        await runReadOnlyQuery(client, positionals[0]!, (cols) => {
          columns = cols;
        }, (rows) => {
          for (const r of rows) ctx.out(`${n++ === 0 ? '[' : ','}${jsonRow(r, columns)}`);
        }, { timeoutMs });
        ctx.out(n === 0 ? '[]' : ']');
        return 0;
      }
      const kept: Record<string, unknown>[] = [];
      const total = await runReadOnlyQuery(client, positionals[0]!, (cols) => {
        columns = cols;
      }, (rows) => {
        for (const r of rows) if (kept.length < maxRows) kept.push(r);
      }, { timeoutMs });
      if (columns.length === 0) {
        ctx.out('(no result set)');
        return 0;
      }
      const lines = tableLines(columns, kept);
      if (total > kept.length) lines[lines.length - 1] = `(${total} rows; showing the first ${kept.length}: use --csv or --json for all, or add LIMIT)`;
      for (const l of lines) ctx.out(l);
      return 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});
