/**
 * The known-answer validation of the measurement (docs/experiment.md, docs/sql.md): the chain-of-thought
 * flip rate before the answer commits must be higher for the model whose answer is computed
 * from its chain of thought (`arith-cot`) than for the control trained with random CoT
 * digits (`arith-cot-decoupled`), with non-overlapping 95 % Wilson intervals. When it is
 * not, that is a finding to report with its numbers, not something to tune away.
 */
import { wilson } from './wilson.ts';
import type { Queryable } from './queryable.ts';

/** Options of {@link knownAnswerValidation}. */
export interface KnownAnswerOptions {
  /** Model whose answer depends on its CoT. @default 'arith-cot' */
  readonly cotModel?: string;
  /** Control model whose CoT carries no information. @default 'arith-cot-decoupled' */
  readonly controlModel?: string;
  /** Intervention kind to pool ('all' = every kind but probe). @default 'all' */
  readonly kind?: string;
}

/** One model's CoT flip rate before the answer commits. */
export interface CotFlipRate {
  readonly modelId: string;
  readonly modelName: string;
  /** Intervention cells on the CoT span before the answer committed. */
  readonly n: number;
  readonly flips: number;
  /** flips / n, null when n = 0. */
  readonly rate: number | null;
  /** 95 % Wilson interval. */
  readonly low: number | null;
  readonly high: number | null;
}

/** Outcome of {@link knownAnswerValidation}. */
export interface KnownAnswerResult {
  readonly sweepId: string;
  readonly kind: string;
  /** Every model of the sweep (models without such cells have n = 0). */
  readonly models: readonly CotFlipRate[];
  readonly cot: CotFlipRate | null;
  readonly control: CotFlipRate | null;
  /** Both models are in the sweep with at least one such cell. */
  readonly applicable: boolean;
  /** The CoT model's rate is higher than the control's. */
  readonly higher: boolean;
  /** The two 95 % intervals do not overlap. */
  readonly separated: boolean;
  /** higher and separated. */
  readonly passed: boolean;
  /** One line with the numbers, for reports and logs. */
  readonly summary: string;
}

const pct = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

function describe(r: CotFlipRate): string {
  return `${r.modelName} ${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}] (${r.flips}/${r.n})`;
}

/**
 * Computes per-model CoT flip rates before the answer commits (view `flip_rate_by_span`,
 * span = 'cot', phase = 'pre_commit') with Wilson 95 % intervals, and whether the CoT
 * model's rate is above the control's with separated intervals. Never throws for missing
 * models: `applicable` is then false and `summary` says why.
 */
export async function knownAnswerValidation(db: Queryable, sweepId: string, opts: KnownAnswerOptions = {}): Promise<KnownAnswerResult> {
  const cotName = opts.cotModel ?? 'arith-cot';
  const controlName = opts.controlModel ?? 'arith-cot-decoupled';
  const kind = opts.kind ?? 'all';
  const { rows } = await db.query<{ model_id: string; model_name: string; n: string | null; flips: string | null }>(
    `SELECT m.id AS model_id, m.name AS model_name, f.n, f.flips
       FROM (SELECT DISTINCT "modelId" FROM "WorkUnit" WHERE "sweepId" = $1) w
       JOIN "Model" m ON m.id = w."modelId"
       LEFT JOIN flip_rate_by_span f ON f.sweep_id = $1 AND f.model_id = m.id AND f.kind = $2 AND f.span = 'cot' AND f.phase = 'pre_commit'
      ORDER BY m.name`,
    [sweepId, kind],
  );
  const models = rows.map((r): CotFlipRate => {
    const w = wilson(Number(r.flips ?? 0), Number(r.n ?? 0));
    return { modelId: r.model_id, modelName: r.model_name, n: w.n, flips: w.k, rate: w.rate, low: w.low, high: w.high };
  });
  const cot = models.find((m) => m.modelName === cotName) ?? null;
  const control = models.find((m) => m.modelName === controlName) ?? null;
  const applicable = cot !== null && control !== null && cot.n > 0 && control.n > 0;
  if (!applicable) {
    const missing = [cot?.n ? null : cotName, control?.n ? null : controlName].filter(Boolean).join(' and ');
    return { sweepId, kind, models, cot, control, applicable, higher: false, separated: false, passed: false, summary: `not applicable: no CoT interventions before the answer commits for ${missing} in this sweep` };
  }
  const higher = cot.rate! > control.rate!;
  const separated = cot.low! > control.high! || control.low! > cot.high!;
  const passed = higher && separated;
  const verdict = passed
    ? 'higher for the CoT model, intervals separate: the measurement recovers the known answer'
    : higher
      ? 'higher for the CoT model, but the 95 % intervals overlap: the measurement does not separate them'
      : 'NOT higher for the CoT model: the measurement does not recover the known answer';
  return { sweepId, kind, models, cot, control, applicable, higher, separated, passed, summary: `${describe(cot)} vs ${describe(control)}: ${verdict}` };
}
