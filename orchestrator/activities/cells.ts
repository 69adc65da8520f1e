/**
 * Writing a work unit's results: the clean trajectory (one row, idempotent) and cells in
 * batches keyed by (sweep, cell key), so a retried work unit can never duplicate a cell.
 *
 * Cells go in through `COPY … FROM STDIN` (text format, pg-copy-streams) into a session-local
 * staging table, then one `INSERT … SELECT … ON CONFLICT DO NOTHING` merge, both in one
 * transaction ({@link copyCells}); the older one-statement `INSERT … SELECT FROM unnest(…)`
 * path ({@link insertCells}) is kept as the reference `bench:scale` measures against.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { survivePoolErrors } from '../db/client.ts';
import type { CleanTrajectory, InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { PlannedCell } from '../sweep/grid.ts';
import type { ResolvedSampler } from '../sweep/plan.ts';

/** Who a work unit's rows belong to. */
export interface UnitIdentity {
  readonly sweepId: string;
  readonly workUnitId: string;
  readonly modelId: string;
  readonly promptId: string;
  readonly seed: number;
}

/** A cell row ready to insert. */
export interface CellRow {
  readonly cellKey: string;
  readonly step: number;
  readonly position: number;
  readonly kind: string;
  readonly variant: string | null;
  readonly token: number | null;
  readonly span: 'cot' | 'answer' | 'other';
  readonly finalAnswer: string | null;
  /** The branch's final response; null when only part of it is known (`partialText`). */
  readonly finalText: string | null;
  /** The response as far as known when the branch was skipped or stopped early; null when final. */
  readonly partialText: string | null;
  readonly flipped: boolean;
  readonly correct: boolean;
  readonly answerCommittedBefore: boolean;
  /** Null when not every final token is known (never 0 for unknown). */
  readonly changedTokens: number | null;
  readonly computeSteps: number;
  /** The intervention changed the state but its outcome was settled, so it ran without compute (never with `noop`). */
  readonly skipped: boolean;
  readonly stoppedEarly: boolean;
  /**
   * Milliseconds, measured by the worker, from the RunGroup request that produced the cell to
   * its result's arrival: the clean run, the branch's compute (batched with the group's other
   * branches) and the transport; null when not measured. docs/sql.md, `Cell.durationMs`.
   */
  readonly durationMs: number | null;
  /** The intervention cannot change anything ({@link isNoop}); left out of every rate. */
  readonly noop: boolean;
}

/** What {@link isNoop} needs of the clean run: per generated position, its commit step (−1: never) and final token. */
export interface CleanCommits {
  readonly commitStep: readonly number[];
  readonly tokens: readonly number[];
}

/**
 * Whether an intervention at (step t, position p) cannot change anything (docs/sql.md "Reading
 * the numbers"): a `remask` of a position the clean run has not committed before t (it is still
 * masked in the state the intervention acts on), or a `replace` writing, at a position committed
 * before t, the token the clean run committed there. `token` is the token placed (a replace's
 * token is known before running for `given`, after it for `random`/`second`). Probes are never no-ops.
 * Autoregressive models (`autoregressive`): a `replace` writing the clean token at the position;
 * the agent reports their other no-ops itself (InterventionResult.noop).
 */
export function isNoop(kind: PlannedCell['kind']['kind'], step: number, position: number, token: number | null, clean: CleanCommits, autoregressive = false): boolean {
  if (kind === 'probe' || position < 0 || position >= clean.commitStep.length) return false;
  if (autoregressive) return kind === 'replace' && token !== null && token === clean.tokens[position];
  if (kind !== 'remask' && kind !== 'replace') return false;
  const c = clean.commitStep[position]!;
  const committedBefore = c >= 0 && c < step;
  if (kind === 'remask') return !committedBefore;
  return committedBefore && token !== null && token === clean.tokens[position];
}

/** Span of a generated position in the clean run. */
export function spanOf(position: number, t: { cotStart: number | null; cotEnd: number | null; answerStart: number | null; answerEnd: number | null }): CellRow['span'] {
  if (t.cotStart !== null && t.cotEnd !== null && position >= t.cotStart && position < t.cotEnd) return 'cot';
  if (t.answerStart !== null && t.answerEnd !== null && position >= t.answerStart && position < t.answerEnd) return 'answer';
  return 'other';
}

/**
 * The span a cell acts on: `other` for probes; `cot` for the autoregressive kinds that act on the
 * whole chain of thought (`paraphrase`, `filler`, `truncate` at a fraction); else its position's.
 */
export function cellSpan(planned: PlannedCell, spans: Parameters<typeof spanOf>[1]): CellRow['span'] {
  const k = planned.kind.kind;
  if (k === 'probe') return 'other';
  if (planned.position < 0 && (k === 'paraphrase' || k === 'filler' || k === 'truncate')) return 'cot';
  return spanOf(planned.position, spans);
}

/**
 * The cell row of an agent's result for a planned cell. A partial text (`text_partial`) goes
 * to `partialText`, never to `finalText`; an absent `changed_tokens` stays null. The answer
 * outcome (same / changed / none) is a column the database derives from the answer and
 * `flipped`, which the agent's `outcome` agrees with by construction.
 */
export function cellRow(cellKey: string, planned: PlannedCell, r: InterventionResult, spans: Parameters<typeof spanOf>[1] & CleanCommits, durationMs: number | null = null): CellRow {
  const k = planned.kind;
  // Autoregressive results say themselves when they are no-ops (InterventionResult.noop).
  const noop = r.noop === true || isNoop(k.kind, planned.step, planned.position, k.kind === 'replace' ? r.token : null, spans, r.noop !== undefined);
  return {
    cellKey,
    step: planned.step,
    position: planned.position,
    kind: k.kind,
    variant: k.kind === 'replace' ? k.variant : null,
    token: k.kind === 'replace' ? r.token : null,
    span: cellSpan(planned, spans),
    finalAnswer: r.answer ?? null,
    finalText: r.textPartial ? null : r.text,
    partialText: r.textPartial ? r.text : null,
    flipped: r.flipped,
    correct: r.correct,
    answerCommittedBefore: r.answerCommittedBefore,
    changedTokens: r.changedTokens ?? null,
    computeSteps: r.computeSteps,
    // The agent answers no-ops without compute too (as copies of the clean run) and reports them
    // as skipped; stored, `skipped` is only the settled-outcome case.
    skipped: r.skipped && !noop,
    stoppedEarly: r.stoppedEarly,
    durationMs,
    noop,
  };
}

/**
 * The row of a no-op recognised before running ({@link isNoop} on the stored clean run): the
 * branch is the clean run itself, so its answer, text and correctness are the clean run's, no
 * token differs and nothing was computed.
 */
export function noopRow(cellKey: string, planned: PlannedCell, clean: Parameters<typeof spanOf>[1] & CleanCommits & {
  readonly answer: string | null; readonly finalText: string; readonly correct: boolean; readonly answerCommitStep: number | null;
}): CellRow {
  const k = planned.kind;
  return {
    cellKey,
    step: planned.step,
    position: planned.position,
    kind: k.kind,
    variant: k.kind === 'replace' ? k.variant : null,
    token: k.kind === 'replace' && k.variant === 'given' ? k.token : null,
    span: cellSpan(planned, clean),
    finalAnswer: clean.answer,
    finalText: clean.finalText,
    partialText: null,
    flipped: false,
    correct: clean.correct,
    answerCommittedBefore: clean.answerCommitStep !== null && clean.answerCommitStep < planned.step,
    changedTokens: 0,
    computeSteps: 0,
    skipped: false,
    stoppedEarly: false,
    durationMs: null,
    noop: true,
  };
}

const CELL_INSERT = `
INSERT INTO "Cell" ("sweepId", "workUnitId", "modelId", "promptId", "seed", "cellKey", "step", "position", "kind", "variant", "token", "span",
  "finalAnswer", "finalText", "partialText", "flipped", "correct", "answerCommittedBefore", "changedTokens", "computeSteps", "skipped", "stoppedEarly", "durationMs", "noop")
SELECT $1, $2, $3, $4, $5, u.* FROM unnest($6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::int[], $12::text[],
  $13::text[], $14::text[], $15::text[], $16::bool[], $17::bool[], $18::bool[], $19::int[], $20::int[], $21::bool[], $22::bool[], $23::int[], $24::bool[]) AS u
ON CONFLICT ("sweepId", "cellKey") DO NOTHING`;

/**
 * Inserts `rows` of one work unit through one `INSERT … SELECT FROM unnest(…)` statement;
 * returns how many were new. The slower reference path (see {@link copyCells}).
 */
export async function insertCells(sql: pg.Pool | pg.Client, id: UnitIdentity, rows: readonly CellRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof CellRow>(k: K): CellRow[K][] => rows.map((r) => r[k]);
  const res = await sql.query(CELL_INSERT, [
    id.sweepId, id.workUnitId, id.modelId, id.promptId, id.seed,
    col('cellKey'), col('step'), col('position'), col('kind'), col('variant'), col('token'), col('span'),
    col('finalAnswer'), col('finalText'), col('partialText'), col('flipped'), col('correct'), col('answerCommittedBefore'), col('changedTokens'), col('computeSteps'), col('skipped'), col('stoppedEarly'), col('durationMs'), col('noop'),
  ]);
  return res.rowCount ?? 0;
}

/** Columns of a staged cell, in COPY order (the identity first, then {@link CellRow}'s). */
const STAGE_COLUMNS = `"sweepId", "workUnitId", "modelId", "promptId", "seed", "cellKey", "step", "position", "kind", "variant", "token", "span",
  "finalAnswer", "finalText", "partialText", "flipped", "correct", "answerCommittedBefore", "changedTokens", "computeSteps", "skipped", "stoppedEarly", "durationMs", "noop"`;

/**
 * The staging table: temporary (session-local, never WAL-logged, no indexes) and emptied at
 * every commit, so a pooled session can reuse it batch after batch and a failed batch leaves
 * nothing behind. Created on a session's first batch.
 */
const STAGE_CREATE = `CREATE TEMP TABLE IF NOT EXISTS cell_stage (
  "sweepId" text, "workUnitId" text, "modelId" text, "promptId" text, "seed" int, "cellKey" text, "step" int, "position" int,
  "kind" text, "variant" text, "token" int, "span" text, "finalAnswer" text, "finalText" text, "partialText" text,
  "flipped" bool, "correct" bool, "answerCommittedBefore" bool, "changedTokens" int, "computeSteps" int, "skipped" bool, "stoppedEarly" bool,
  "durationMs" int, "noop" bool
) ON COMMIT DELETE ROWS`;

const STAGE_MERGE = `INSERT INTO "Cell" (${STAGE_COLUMNS}) SELECT ${STAGE_COLUMNS} FROM cell_stage ON CONFLICT ("sweepId", "cellKey") DO NOTHING`;

/** A text value in COPY's text format: `\N` for null; backslash, tab, newline and CR escaped. */
function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}
const copyInt = (v: number | null): string => (v === null ? '\\N' : String(v));
const copyBool = (v: boolean): string => (v ? 't' : 'f');

/**
 * The cell keys of one work unit that are stored, among `keys` (its planned keys, `u<ordinal>.…`).
 * Equality probes of the unique key ("sweepId", "cellKey"), which hold in any collation: "Cell"
 * has no index of "workUnitId" (migration 20261215000000_cell_ingest_indexes), and a
 * `LIKE 'u<ordinal>.%'` prefix reaches a btree only under the C collation (the embedded cluster's,
 * not every server's). Tested with `EXPLAIN` on an ICU database (test/db/cell-ingest.test.ts).
 */
export const STORED_UNIT_CELLS_SQL = 'SELECT "cellKey" FROM "Cell" WHERE "sweepId" = $1 AND "cellKey" = ANY($2::text[]) AND "workUnitId" = $3';

/** The stored keys among `keys` of the work unit `id` (see STORED_UNIT_CELLS_SQL). */
export async function storedUnitCells(sql: pg.Pool | pg.Client, id: Pick<UnitIdentity, 'sweepId' | 'workUnitId'>, keys: readonly string[]): Promise<Set<string>> {
  const r = await sql.query<{ cellKey: string }>(STORED_UNIT_CELLS_SQL, [id.sweepId, keys, id.workUnitId]);
  return new Set(r.rows.map((x) => x.cellKey));
}

/** One batch of rows as COPY text (one line per row, tab-separated, in STAGE_COLUMNS order). */
export function copyLines(id: UnitIdentity, rows: readonly CellRow[]): string {
  const head = `${copyText(id.sweepId)}\t${copyText(id.workUnitId)}\t${copyText(id.modelId)}\t${copyText(id.promptId)}\t${id.seed}\t`;
  let out = '';
  for (const r of rows) {
    out += head + copyText(r.cellKey) + '\t' + r.step + '\t' + r.position + '\t' + copyText(r.kind) + '\t' + copyText(r.variant) + '\t'
      + copyInt(r.token) + '\t' + r.span + '\t' + copyText(r.finalAnswer) + '\t' + copyText(r.finalText) + '\t' + copyText(r.partialText) + '\t'
      + copyBool(r.flipped) + '\t' + copyBool(r.correct) + '\t' + copyBool(r.answerCommittedBefore) + '\t' + copyInt(r.changedTokens) + '\t'
      + r.computeSteps + '\t' + copyBool(r.skipped) + '\t' + copyBool(r.stoppedEarly) + '\t' + copyInt(r.durationMs) + '\t' + copyBool(r.noop) + '\n';
  }
  return out;
}

/**
 * Writes `rows` of one work unit exactly once: `COPY` into the session's staging table, then
 * one merge into `Cell` that skips keys already there, in one transaction. Returns how many
 * rows were new (a retried batch returns 0 for the rows it had written before).
 *
 * @param sql a pool (a session is taken for the batch) or a connected client (not inside a
 *   transaction of its own: this function commits).
 * @throws the driver's error when the database refuses the batch; nothing of it is kept.
 */
export async function copyCells(sql: pg.Pool | pg.Client, id: UnitIdentity, rows: readonly CellRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const client = sql instanceof pg.Pool ? await sql.connect() : sql;
  let broken: Error | undefined;
  const lines = copyLines(id, rows);
  try {
    // The common case: none of the keys is there yet, and one COPY straight into "Cell" is
    // the whole write (atomic: a unique violation keeps none of its rows).
    try {
      await copyInto(client, `COPY "Cell" (${STAGE_COLUMNS}) FROM STDIN`, lines);
      return rows.length;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    }
    // Some keys are there (a retried batch): stage, then merge what is new.
    await client.query(`BEGIN; ${STAGE_CREATE}`);
    try {
      await copyInto(client, `COPY cell_stage (${STAGE_COLUMNS}) FROM STDIN`, lines);
      const res = await client.query(STAGE_MERGE);
      await client.query('COMMIT');
      return res.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
      throw err;
    }
  } catch (err) {
    broken ??= (err as { code?: string }).code ? undefined : (err as Error);
    throw err;
  } finally {
    if (client !== sql) (client as pg.PoolClient).release(broken);
  }
}

const UNIQUE_VIOLATION = '23505';

/** Runs one `COPY … FROM STDIN` with `text` as its whole input. */
function copyInto(client: pg.Client | pg.PoolClient, statement: string, text: string): Promise<void> {
  const stream = client.query(copyFrom(statement));
  return new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    stream.end(text);
  });
}

/** The trajectory columns of a clean run (without the identity). */
export interface TrajectoryRow {
  readonly promptLength: number;
  readonly commitStep: number[];
  readonly tokens: number[];
  readonly finalText: string;
  readonly answer: string | null;
  readonly correct: boolean;
  readonly cotStart: number | null;
  readonly cotEnd: number | null;
  readonly answerStart: number | null;
  readonly answerEnd: number | null;
  readonly answerCommitStep: number | null;
  readonly cotCommitStep: number | null;
  readonly filmStrip: { step: number; guess: number[] }[] | null;
  /** Per step margin at the quota cut; null when the agent sent none. */
  readonly commitMargin?: number[] | null;
  /** Paraphrase-remask events (docs/paraphrase.md); null when the run had none. */
  readonly paraphraseEvents?: ParaphraseEventRow[] | null;
}

/** One paraphrase event as stored in Trajectory."paraphraseEvents" (proto ParaphraseEvent). */
export interface ParaphraseEventRow {
  readonly step: number;
  readonly paraphraser: string;
  readonly before: string;
  readonly after: string;
  readonly tokensBefore: number[];
  readonly commitBefore: number[];
  readonly tokensAfter: number[];
  readonly commitAfter: number[];
  readonly remasked: number[];
  readonly truncated: boolean;
}

/** Converts the agent's clean trajectory. */
export function trajectoryRow(t: CleanTrajectory): TrajectoryRow {
  return {
    promptLength: t.promptIds.length,
    commitStep: [...t.commitStep],
    tokens: [...t.tokens],
    finalText: t.text,
    answer: t.answer ?? null,
    correct: t.correct,
    cotStart: t.cotSpan?.start ?? null,
    cotEnd: t.cotSpan?.end ?? null,
    answerStart: t.answerSpan?.start ?? null,
    answerEnd: t.answerSpan?.end ?? null,
    answerCommitStep: t.answerCommitStep ?? null,
    cotCommitStep: t.cotCommitStep ?? null,
    filmStrip: t.filmStrip.length ? t.filmStrip.map((f) => ({ step: f.step, guess: [...f.guess] })) : null,
    commitMargin: t.commitMargin.length ? [...t.commitMargin] : null,
    paraphraseEvents: t.paraphraseEvents.length
      ? t.paraphraseEvents.map((e) => ({ step: e.step, paraphraser: e.paraphraser, before: e.before, after: e.after, tokensBefore: [...e.tokensBefore], commitBefore: [...e.commitBefore], tokensAfter: [...e.tokensAfter], commitAfter: [...e.commitAfter], remasked: [...e.remasked], truncated: e.truncated }))
      : null,
  };
}

/**
 * Inserts the trajectory unless one exists; returns the stored row's tokens (to check agreement).
 * The sampler settings go to their typed columns (`genLength`, `steps`, `blockLength`,
 * `remasking`, `temperature`), the one place they are stored; the database's CHECK constraint
 * refuses settings the sampler would refuse.
 */
export async function insertTrajectory(sql: pg.Pool | pg.Client, id: UnitIdentity, sampler: ResolvedSampler, t: TrajectoryRow, computeMs: number | null): Promise<number[]> {
  const res = await sql.query<{ tokens: number[] }>(
    `WITH ins AS (
       INSERT INTO "Trajectory" ("id", "workUnitId", "sweepId", "modelId", "promptId", "seed", "genLength", "steps", "blockLength", "remasking", "temperature",
         "promptLength", "commitStep", "tokens",
         "finalText", "answer", "correct", "cotStart", "cotEnd", "answerStart", "answerEnd", "answerCommitStep", "cotCommitStep", "filmStrip", "computeMs",
         "samplerMode", "samplerOptions", "commitMargin", "paraphraseEvents")
       VALUES ($1, $1, $2, $3, $4, $5, $20, $21, $22, $23, $24, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $25, $26, $27, $28)
       ON CONFLICT ("workUnitId") DO NOTHING RETURNING "tokens")
     SELECT "tokens" FROM ins UNION ALL SELECT "tokens" FROM "Trajectory" WHERE "workUnitId" = $1 LIMIT 1`,
    [id.workUnitId, id.sweepId, id.modelId, id.promptId, id.seed, t.promptLength, t.commitStep, t.tokens,
      t.finalText, t.answer, t.correct, t.cotStart, t.cotEnd, t.answerStart, t.answerEnd, t.answerCommitStep, t.cotCommitStep,
      t.filmStrip ? JSON.stringify(t.filmStrip) : null, computeMs,
      sampler.genLength, sampler.steps, sampler.blockLength, sampler.remasking, sampler.temperature,
      sampler.extras?.mode ?? 'llada', sampler.extras ? JSON.stringify(sampler.extras) : null,
      t.commitMargin?.length ? t.commitMargin.map((m) => (Number.isNaN(m) ? 'NaN' : m === Infinity ? 'Infinity' : m)) : null,
      t.paraphraseEvents?.length ? JSON.stringify(t.paraphraseEvents) : null],
  );
  return res.rows[0]?.tokens ?? t.tokens;
}

/**
 * The connection pool cell ingestion uses. Its sessions commit asynchronously
 * (`synchronous_commit = off`): a batch's commit does not wait for the WAL flush, which is
 * most of the cost of many small batches. It is safe here: PostgreSQL loses at most a
 * suffix of recent commits on a crash, never an earlier one, and a work unit is marked done
 * (a later commit) only after all its cells were written — so a crash can only leave a work
 * unit "not done", and its missing cells are written when it is retried or resumed.
 */
export function createIngestPool(url: string, max = 8): pg.Pool {
  return survivePoolErrors(new pg.Pool({ connectionString: url, max, options: '-c synchronous_commit=off' }));
}
