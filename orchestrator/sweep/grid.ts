/**
 * Resolving a sweep's grid against one clean trajectory: span selectors (`cot`, `answer`)
 * become that trajectory's positions, fractions become steps of its T. Cells get a
 * deterministic key, unique within a work unit, so writes are idempotent.
 */
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { AnyKindSpec, ArKindSpec, KindSpec, PositionSelector, SpanName, StepSelector, SweepSpec } from './spec-types.ts';

/** What a grid is resolved against. Spans are [start, end) generated positions. */
export interface TrajectoryShape {
  readonly steps: number;
  readonly genLength: number;
  readonly cot: { readonly start: number; readonly end: number } | null;
  readonly answer: { readonly start: number; readonly end: number } | null;
}

/**
 * One planned intervention. `position` is -1 for probes and for the autoregressive kinds that
 * act on the whole chain of thought (`paraphrase`, `filler`, `truncate` at a fraction); `step` is
 * 0 for every autoregressive cell; `fraction` is set for `truncate` at a fraction.
 */
export interface PlannedCell {
  readonly key: string;
  readonly step: number;
  readonly position: number;
  readonly kind: AnyKindSpec;
  readonly fraction?: number;
}

function spanPositions(span: SpanName, shape: TrajectoryShape): number[] {
  const r = span === 'all' ? { start: 0, end: shape.genLength } : shape[span];
  return r ? Array.from({ length: r.end - r.start }, (_, i) => r.start + i) : [];
}

function check(v: number, limit: number, what: string): number {
  if (v >= limit) throw new FaithsweepError(ErrorCode.BAD_SPEC, `grid ${what} ${v} is out of range: this model has ${limit}`, { hint: 'lower it, or use fractions / span names' });
  return v;
}

/** Generated positions selected by `selectors`, ascending, without duplicates. */
export function resolvePositions(selectors: readonly PositionSelector[], shape: TrajectoryShape): number[] {
  const out = new Set<number>();
  for (const s of selectors) {
    if (s.kind === 'index') out.add(check(s.value, shape.genLength, 'position'));
    else if (s.kind === 'range') for (let i = s.from; i <= s.to; i++) out.add(check(i, shape.genLength, 'position'));
    else if (s.kind === 'span') for (const i of spanPositions(s.span, shape)) out.add(i);
    else spanPositions(s.of, shape).forEach((i, n) => n % s.k === 0 && out.add(i));
  }
  return [...out].sort((a, b) => a - b);
}

/** Steps selected by `selectors`, ascending, without duplicates. A fraction f is step floor(f * T). */
export function resolveSteps(selectors: readonly StepSelector[], T: number): number[] {
  const out = new Set<number>();
  for (const s of selectors) {
    if (s.kind === 'index') out.add(check(s.value, T, 'step'));
    else if (s.kind === 'range') for (let t = s.from; t <= s.to; t++) out.add(check(t, T, 'step'));
    else if (s.kind === 'fraction') out.add(Math.min(T - 1, Math.floor(s.value * T)));
    else if (s.kind === 'every') for (let t = 0; t < T; t += s.k) out.add(t);
    else for (let t = 0; t < T; t++) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/** The kind part of a cell key: `replace.random`, `replace.token5`, `remask`, `probe`, `truncate`, `paraphrase`, `filler`. */
export function kindKey(k: AnyKindSpec): string {
  if (k.kind !== 'replace') return k.kind;
  return k.variant === 'given' ? `replace.token${k.token}` : `replace.${k.variant}`;
}

/** Deterministic key of a cell within its work unit. */
export function cellKey(step: number, position: number, k: KindSpec): string {
  return k.kind === 'probe' ? `t${step}.probe` : `t${step}.p${position}.${kindKey(k)}`;
}

/** Every cell of the grid for one trajectory, ordered by step, position, kind. */
export function resolveCells(grid: { positions: readonly PositionSelector[]; steps: readonly StepSelector[]; kinds: readonly KindSpec[] }, shape: TrajectoryShape): PlannedCell[] {
  const steps = resolveSteps(grid.steps, shape.steps);
  const positions = resolvePositions(grid.positions, shape);
  const seen = new Set<string>();
  const cells: PlannedCell[] = [];
  for (const step of steps) {
    for (const kind of grid.kinds) {
      for (const position of kind.kind === 'probe' ? [-1] : positions) {
        const key = cellKey(step, position, kind);
        if (seen.has(key)) continue;
        seen.add(key);
        cells.push({ key, step, position, kind });
      }
    }
  }
  return cells;
}

/** A fraction as it appears in a cell key: the shortest decimal that reads back as the same number (`0.25`, `1`). */
export function fractionKey(f: number): string {
  return String(f);
}

/**
 * Every cell of an autoregressive grid for one trajectory (Lanham et al. 2023's tests): keys
 * `f<fraction>.truncate` (early answering at each fraction, or `p<position>.truncate` at each
 * position when no fractions are given), `p<position>.replace.<variant>` (adding mistakes),
 * `paraphrase`, `filler`; ordered by kind, then fraction or position. Deterministic, so a
 * resumed work unit asks only for the keys it misses.
 */
export function resolveArCells(grid: { positions?: readonly PositionSelector[]; fractions?: readonly number[]; kinds: readonly ArKindSpec[] }, shape: TrajectoryShape): PlannedCell[] {
  const positions = grid.positions ? resolvePositions(grid.positions, shape) : [];
  const fractions = [...new Set(grid.fractions ?? [])].sort((a, b) => a - b);
  const seen = new Set<string>();
  const cells: PlannedCell[] = [];
  const add = (c: PlannedCell): void => {
    if (seen.has(c.key)) return;
    seen.add(c.key);
    cells.push(c);
  };
  for (const kind of grid.kinds) {
    if (kind.kind === 'truncate') {
      if (grid.fractions) for (const f of fractions) add({ key: `f${fractionKey(f)}.truncate`, step: 0, position: -1, kind, fraction: f });
      else for (const p of positions) add({ key: `p${p}.truncate`, step: 0, position: p, kind });
    } else if (kind.kind === 'replace') {
      for (const p of positions) add({ key: `p${p}.${kindKey(kind)}`, step: 0, position: p, kind });
    } else {
      add({ key: kind.kind, step: 0, position: -1, kind });
    }
  }
  return cells;
}

/**
 * The cells of one work unit: the autoregressive grid for an autoregressive model, else the
 * diffusion grid. Throws BAD_SPEC when the spec has no grid for the model's kind (plan refuses
 * such a spec first).
 */
export function resolveModelCells(spec: Pick<SweepSpec, 'grid' | 'arGrid'>, autoregressive: boolean, shape: TrajectoryShape): PlannedCell[] {
  if (autoregressive) {
    if (!spec.arGrid) throw new FaithsweepError(ErrorCode.BAD_SPEC, 'the sweep lists an autoregressive model but has no ar_grid', { hint: 'add ar_grid (docs/spec.md)' });
    return resolveArCells(spec.arGrid, shape);
  }
  if (!spec.grid) throw new FaithsweepError(ErrorCode.BAD_SPEC, 'the sweep lists a diffusion model but has no grid', { hint: 'add grid (docs/spec.md)' });
  return resolveCells(spec.grid, shape);
}
