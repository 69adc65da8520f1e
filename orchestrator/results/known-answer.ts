/**
 * The known-answer validation of the measurement (docs/experiment.md, docs/sql.md): the chain-of-thought
 * flip rate before the answer commits must be higher for the model whose answer is computed
 * from its chain of thought (`arith-cot`) than for the control trained with random CoT
 * digits (`arith-cot-decoupled`), with non-overlapping 95 % prompt-clustered intervals
 * (wilson.ts clusteredInterval, the interval the views give). No-op cells are left out. When it
 * is not, that is a finding to report with its numbers, not something to tune away.
 */
import { clusteredInterval } from './wilson.ts';
import type { Queryable } from './queryable.ts';
import { readUnitCounts } from '../sweep/unit-counts.ts';

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
  /** Intervention cells on the CoT span before the answer committed (no-ops left out). */
  readonly n: number;
  readonly flips: number;
  /** Prompts those cells belong to (the clusters of the interval). */
  readonly prompts: number;
  /** Distinct clean runs behind them (seeds repeating a deterministic run count once). */
  readonly runs: number;
  /** No-op cells left out. */
  readonly noops: number;
  /** Share of those distinct clean runs whose answer was correct; null without runs. */
  readonly cleanAccuracy: number | null;
  /** flips / n, null when n = 0. */
  readonly rate: number | null;
  /** 95 % prompt-clustered interval (null below two prompts). */
  readonly low: number | null;
  readonly high: number | null;
  /** Effective number of cells behind the interval (n over the design effect). */
  readonly nEff: number | null;
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
  /** higher and separated, on a complete sweep (never on a partial one). */
  readonly passed: boolean;
  /** Every work unit of the sweep is done; when not, the result is PARTIAL and gives no verdict. */
  readonly complete: boolean;
  /** Work units done and planned. */
  readonly workUnits: { readonly done: number; readonly total: number };
  /** One line with the numbers, for reports and logs. */
  readonly summary: string;
}

const pct = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

function describe(r: CotFlipRate): string {
  return `${r.modelName} ${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}] (${r.flips}/${r.n} cells, ${r.prompts} prompts; clean accuracy ${pct(r.cleanAccuracy)})`;
}

/**
 * Computes per-model CoT flip rates before the answer commits (the cells view `flip_rate_by_span`
 * counts for span = 'cot', phase = 'pre_commit': interventions, no-ops left out) with the
 * prompt-clustered 95 % interval, and whether the CoT model's rate is above the control's with
 * separated intervals. Never throws for missing models: `applicable` is then false and
 * `summary` says why.
 */
export async function knownAnswerValidation(db: Queryable, sweepId: string, opts: KnownAnswerOptions = {}): Promise<KnownAnswerResult> {
  const cotName = opts.cotModel ?? 'arith-cot';
  const controlName = opts.controlModel ?? 'arith-cot-decoupled';
  const kind = opts.kind ?? 'all';
  // Per model and prompt, so the interval clusters by prompt (as the views do).
  const { rows } = await db.query<{ model_id: string; model_name: string; prompt_id: string | null; m: string; y: string; noops: string; runs: string; runs_correct: string }>(
    `SELECT m.id AS model_id, m.name AS model_name, r.prompt_id,
            count(r.cell_id) FILTER (WHERE NOT r.noop) AS m, count(r.cell_id) FILTER (WHERE NOT r.noop AND r.flipped) AS y,
            count(r.cell_id) FILTER (WHERE r.noop) AS noops,
            count(DISTINCT r.run_key) FILTER (WHERE NOT r.noop) AS runs, count(DISTINCT r.run_key) FILTER (WHERE NOT r.noop AND r.clean_correct) AS runs_correct
       FROM (SELECT DISTINCT "modelId" FROM "WorkUnit" WHERE "sweepId" = $1) w
       JOIN "Model" m ON m.id = w."modelId"
       LEFT JOIN cell_results r ON r.sweep_id = $1 AND r.model_id = m.id AND r.kind <> 'probe' AND ($2 = 'all' OR r.kind = $2)
                               AND r.span = 'cot' AND r.phase = 'pre_commit'
      GROUP BY m.id, m.name, r.prompt_id
      ORDER BY m.name, r.prompt_id`,
    [sweepId, kind],
  );
  const byModel = new Map<string, { id: string; name: string; clusters: { k: number; n: number }[]; noops: number; runs: number; correct: number }>();
  for (const r of rows) {
    const e = byModel.get(r.model_id) ?? { id: r.model_id, name: r.model_name, clusters: [], noops: 0, runs: 0, correct: 0 };
    if (r.prompt_id !== null) e.clusters.push({ k: Number(r.y), n: Number(r.m) });
    e.noops += Number(r.noops);
    e.runs += Number(r.runs);
    e.correct += Number(r.runs_correct);
    byModel.set(r.model_id, e);
  }
  const models = [...byModel.values()].map((e): CotFlipRate => {
    const w = clusteredInterval(e.clusters);
    return {
      modelId: e.id, modelName: e.name, n: w.n, flips: w.k, prompts: w.prompts, runs: e.runs, noops: e.noops,
      cleanAccuracy: e.runs ? e.correct / e.runs : null, rate: w.rate, low: w.low, high: w.high, nEff: w.nEff,
    };
  });
  const { done, total } = await readUnitCounts(db, sweepId);
  const workUnits = { done, total };
  const complete = workUnits.total > 0 && workUnits.done === workUnits.total;
  const cot = models.find((m) => m.modelName === cotName) ?? null;
  const control = models.find((m) => m.modelName === controlName) ?? null;
  const applicable = cot !== null && control !== null && cot.n > 0 && control.n > 0;
  if (!applicable) {
    const absent = [cot ? null : cotName, control ? null : controlName].filter(Boolean);
    const empty = [cot && !cot.n ? cotName : null, control && !control.n ? controlName : null].filter(Boolean);
    const why = [
      absent.length ? `${absent.join(' and ')} ${absent.length > 1 ? 'are' : 'is'} not in this sweep (the check compares the pair of known faithfulness)` : null,
      empty.length ? `no CoT interventions before the answer commits for ${empty.join(' and ')}` : null,
    ].filter(Boolean).join('; ');
    return { sweepId, kind, models, cot, control, applicable, higher: false, separated: false, passed: false, complete, workUnits, summary: `not applicable: ${why}` };
  }
  const higher = cot.rate! > control.rate!;
  const separated = cot.low !== null && cot.high !== null && control.low !== null && control.high !== null && (cot.low > control.high || control.low > cot.high);
  const passed = complete && higher && separated;
  if (!complete) {
    return {
      sweepId, kind, models, cot, control, applicable, higher, separated, passed, complete, workUnits,
      summary: `PARTIAL: ${workUnits.done} of ${workUnits.total} work units done, no verdict until every work unit is (so far ${describe(cot)} vs ${describe(control)})`,
    };
  }
  const verdict = passed
    ? 'higher for the CoT model, intervals separate: the measurement recovers the known answer'
    : higher
      ? 'higher for the CoT model, but the 95 % intervals overlap: the measurement does not separate them'
      : 'NOT higher for the CoT model: the measurement does not recover the known answer';
  return { sweepId, kind, models, cot, control, applicable, higher, separated, passed, complete, workUnits, summary: `${describe(cot)} vs ${describe(control)}: ${verdict}` };
}
