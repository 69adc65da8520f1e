/**
 * Rendering query results for the terminal: an aligned table (psql-like), CSV (RFC 4180)
 * or JSON. CSV and JSON are produced row by row so they can stream.
 */
import type { ResultColumn } from './read-only-query.ts';

const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const INT8 = 20;

/** Whether a column holds numbers (right-aligned in tables). */
export function isNumericColumn(c: ResultColumn): boolean {
  return NUMERIC_TYPES.has(c.typeId);
}

/** A value as text: '' for NULL, ISO for dates, JSON for objects and arrays. */
export function textValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A value for JSON output: bigint columns become numbers when they fit exactly. */
export function jsonValue(v: unknown, c: ResultColumn): unknown {
  if (c.typeId === INT8 && typeof v === 'string') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  return v;
}

/** One CSV field. */
export function csvField(v: unknown): string {
  const s = textValue(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (without the line break). */
export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',');
}

/** One row as a JSON object keyed by column name. */
export function jsonRow(row: Record<string, unknown>, columns: readonly ResultColumn[]): string {
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, jsonValue(row[c.name], c)])));
}

/** An aligned table with a header rule and a row-count footer, as lines. */
export function tableLines(columns: readonly ResultColumn[], rows: readonly Record<string, unknown>[]): string[] {
  const cells = rows.map((r) => columns.map((c) => textValue(r[c.name]).replace(/\n/g, '\\n')));
  const widths = columns.map((c, i) => Math.max([...c.name].length, ...cells.map((r) => [...r[i]!].length)));
  const pad = (s: string, i: number, right: boolean) => {
    const fill = ' '.repeat(widths[i]! - [...s].length);
    return right ? fill + s : s + fill;
  };
  const line = (vals: readonly string[], header: boolean) =>
    (' ' + vals.map((v, i) => pad(v, i, !header && isNumericColumn(columns[i]!))).join(' | ')).trimEnd();
  return [
    line(columns.map((c) => c.name), true),
    // As psql: one space of padding either side, none after the last column.
    widths.map((w, i) => '-'.repeat(w + (i === widths.length - 1 ? 1 : 2))).join('+'),
    ...cells.map((r) => line(r, false)),
    `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`,
  ];
}
