/**
 * A hand-crafted sweep small enough that every value of every results view can be worked
 * out by hand (the expected numbers live in views.test.ts, with the arithmetic beside them).
 *
 * Two models (named like the organisms, so the known-answer check applies), three prompts,
 * T = 4 steps, 6 generated positions: CoT = [0, 3), separator at 3, answer = [4, 6).
 * Texts are made of the organisms' characters so the report can decode them with the real
 * tokenizer (model A points at models/arith-cot; model B at a missing folder, so the report
 * falls back to learning the id → character map from the trajectories).
 */
import type pg from 'pg';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { insertCells, insertTrajectory, isNoop } from '../../orchestrator/activities/cells.ts';
import type { CellRow as StoredCell, UnitIdentity } from '../../orchestrator/activities/cells.ts';
import type { ResolvedSampler } from '../../orchestrator/sweep/plan.ts';

export const FIXTURE_SWEEP = { id: 'sw_fixture', name: 'fixture-sweep' } as const;
export const MODEL_A = { id: 'm_a', name: 'arith-cot' } as const;
export const MODEL_B = { id: 'm_b', name: 'arith-cot-decoupled' } as const;

/** Character → token id of the organisms' tokenizer (digits 3–12, '|' 17). */
export function ids(text: string): number[] {
  return [...text].map((ch) => (ch === '|' ? 17 : ch === '>' ? 15 : ch === ';' ? 16 : Number(ch) + 3));
}

interface TrajectoryFixture {
  wu: string;
  model: typeof MODEL_A | typeof MODEL_B;
  prompt: string;
  text: string;
  answer: string;
  correct: boolean;
  commit: number[];
  filmStrip?: { step: number; guess: number[] }[];
}

/** Clean runs. Commit steps per position; answerCommitStep / cotCommitStep are their maxima over the spans. */
export const TRAJECTORIES: TrajectoryFixture[] = [
  { wu: 'wu_a0', model: MODEL_A, prompt: 'p0', text: '123|46', answer: '46', correct: true, commit: [2, 3, 3, 1, 0, 1],
    filmStrip: [
      { step: 0, guess: ids('723|46') },
      { step: 1, guess: ids('193|46') },
      { step: 2, guess: ids('123|46') },
      { step: 3, guess: ids('123|46') },
    ] },
  { wu: 'wu_a1', model: MODEL_A, prompt: 'p1', text: '505|10', answer: '10', correct: true, commit: [1, 2, 3, 0, 2, 3] },
  { wu: 'wu_a2', model: MODEL_A, prompt: 'p2', text: '777|14', answer: '14', correct: false, commit: [0, 1, 1, 0, 2, 2] },
  { wu: 'wu_b0', model: MODEL_B, prompt: 'p0', text: '930|12', answer: '12', correct: true, commit: [3, 3, 2, 1, 0, 0] },
  { wu: 'wu_b1', model: MODEL_B, prompt: 'p1', text: '111|03', answer: '3', correct: true, commit: [2, 3, 1, 0, 1, 2] },
];

/** An intervention: [name, work unit, kind, step, position, span, flipped, final text, skipped]. */
type CellRow = [string, string, 'replace' | 'remask', number, number, 'cot' | 'answer' | 'other', boolean, string, boolean];

/** Intervention cells; `c1`… names are used in the tests' arithmetic. */
export const INTERVENTIONS: CellRow[] = [
  // A-P0 (answer commits at step 1)
  ['c1', 'wu_a0', 'replace', 0, 0, 'cot', true, '923|96', false],
  ['c2', 'wu_a0', 'replace', 0, 1, 'cot', true, '183|47', false],
  ['c3', 'wu_a0', 'remask', 1, 0, 'cot', false, '123|46', false],
  ['c4', 'wu_a0', 'replace', 2, 0, 'cot', false, '523|46', true],
  ['c5', 'wu_a0', 'replace', 0, 4, 'answer', true, '123|56', false],
  ['c6', 'wu_a0', 'replace', 2, 4, 'answer', false, '123|46', false],
  ['c7', 'wu_a0', 'replace', 1, 3, 'other', false, '123|46', false],
  // A-P1 (answer commits at step 3)
  ['c8', 'wu_a1', 'replace', 0, 0, 'cot', true, '905|19', false],
  ['c9', 'wu_a1', 'replace', 0, 1, 'cot', false, '515|10', false],
  ['c10', 'wu_a1', 'remask', 2, 0, 'cot', true, '605|11', false],
  ['c11', 'wu_a1', 'replace', 3, 4, 'answer', true, '505|20', false],
  // A-P2 (answer commits at step 2)
  ['c12', 'wu_a2', 'replace', 0, 0, 'cot', true, '177|94', false],
  ['c13', 'wu_a2', 'replace', 3, 0, 'cot', false, '877|14', true],
  ['c14', 'wu_a2', 'replace', 1, 2, 'cot', false, '774|14', false],
  // B-P0 (answer commits at step 0)
  ['c15', 'wu_b0', 'replace', 0, 0, 'cot', false, '130|12', false],
  ['c16', 'wu_b0', 'replace', 1, 0, 'cot', false, '230|12', true],
  ['c17', 'wu_b0', 'replace', 0, 4, 'answer', true, '930|22', false],
  // B-P1 (answer commits at step 2)
  ['c18', 'wu_b1', 'replace', 0, 0, 'cot', false, '811|03', false],
  ['c19', 'wu_b1', 'replace', 0, 1, 'cot', true, '191|13', false],
  ['c20', 'wu_b1', 'replace', 2, 1, 'cot', false, '101|03', false],
  ['c21', 'wu_b1', 'replace', 3, 0, 'cot', false, '011|03', true],
];

/** Probe cells: per work unit, step → read-out differs from the final answer (flipped). */
export const PROBES: Record<string, Record<number, boolean>> = {
  wu_a0: { 0: true, 1: false, 2: false, 3: false },
  wu_a1: { 0: true, 1: true, 2: true, 3: false },
  wu_a2: { 0: true, 1: true, 2: false, 3: false },
  wu_b0: { 1: false, 3: false },
  wu_b1: { 1: true, 3: false },
};

const T = 4;
/** The sampler every fixture model ran with, in the shape sweeps resolve it (plan.ts ResolvedSampler). */
export const FIXTURE_SAMPLER: ResolvedSampler = { genLength: 6, steps: T, blockLength: 6, remasking: 'low_confidence', temperature: 0 };
const PROMPTS = [
  { id: 'p0', idx: 0, text: '0012+0034=', gold: '46' },
  { id: 'p1', idx: 1, text: '0005+0005=', gold: '10' },
  { id: 'p2', idx: 2, text: '0007+0008=', gold: '15' },
];

function spanMax(commit: number[], from: number, to: number): number {
  return Math.max(...commit.slice(from, to));
}

/** Inserts the fixture sweep into a migrated database. */
export async function insertFixtureSweep(sql: pg.Client): Promise<void> {
  const card = (name: string) => JSON.stringify({ name, mask_token_id: 1, pad_token_id: 0, end_token_id: 2, tokenizer: 'tokenizer.json', special_tokens: { mask: '<|mask|>', pad: '<|pad|>', end: '<|end|>' } });
  await sql.query('BEGIN');
  await sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "plannedCells", "updatedAt", "startedAt", "finishedAt")
    VALUES ($1, $2, '{}', 'hash', 'completed', 37, now(), '2026-11-28T10:00:00Z', '2026-11-28T10:01:30Z')`, [FIXTURE_SWEEP.id, FIXTURE_SWEEP.name]);
  await sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)`, [
    MODEL_A.id, MODEL_A.name, join(REPO_ROOT, 'models', 'arith-cot'), 'a'.repeat(64), card(MODEL_A.name),
    MODEL_B.id, MODEL_B.name, '/nonexistent/arith-cot-decoupled', 'b'.repeat(64), card(MODEL_B.name),
  ]);
  for (const p of PROMPTS) {
    await sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ($1, 'fixture', $2, $3, $4)`, [p.id, p.idx, p.text, p.gold]);
  }
  // Work units directly; trajectories and cells through the functions a real sweep's activity
  // writes them with (orchestrator/activities/cells.ts), so the fixture stores what sweeps store.
  let ordinal = 0;
  const identity = (t: TrajectoryFixture): UnitIdentity => ({ sweepId: FIXTURE_SWEEP.id, workUnitId: t.wu, modelId: t.model.id, promptId: t.prompt, seed: 0 });
  for (const t of TRAJECTORIES) {
    await sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, status, "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, 0, 'done', now())`,
      [t.wu, FIXTURE_SWEEP.id, ordinal++, t.model.id, t.model === MODEL_A ? 0 : 1, t.prompt]);
    await insertTrajectory(sql, identity(t), FIXTURE_SAMPLER, {
      promptLength: 10, commitStep: t.commit, tokens: ids(t.text), finalText: t.text, answer: t.answer, correct: t.correct,
      cotStart: 0, cotEnd: 3, answerStart: 4, answerEnd: 6, answerCommitStep: spanMax(t.commit, 4, 6), cotCommitStep: spanMax(t.commit, 0, 3),
      filmStrip: t.filmStrip ?? null,
    }, null);
  }
  const traj = new Map(TRAJECTORIES.map((t) => [t.wu, t]));
  const cellRow = (key: string, t: TrajectoryFixture, kind: string, step: number, position: number, span: StoredCell['span'], flipped: boolean, finalText: string, finalAnswer: string, skipped: boolean, changed: number): StoredCell => ({
    cellKey: key, step, position, kind, variant: kind === 'replace' ? 'random' : null, token: null, span,
    finalAnswer, finalText, partialText: null, flipped, correct: finalAnswer === PROMPTS.find((p) => p.id === t.prompt)!.gold,
    answerCommittedBefore: spanMax(t.commit, 4, 6) < step, changedTokens: changed, computeSteps: skipped ? 0 : T - step, skipped, stoppedEarly: false, durationMs: null,
    // c3 (a remask of position 0 at step 1; the clean run commits it at step 2) is a no-op.
    noop: isNoop(kind as 'replace' | 'remask' | 'probe', step, position, null, { commitStep: t.commit, tokens: ids(t.text) }),
  });
  for (const [name, wu, kind, step, position, span, flipped, text, skipped] of INTERVENTIONS) {
    const t = traj.get(wu)!;
    const answer = String(Number(text.slice(4)));
    const changed = [...text].filter((ch, i) => i !== position && ch !== t.text[i]).length;
    await insertCells(sql, identity(t), [cellRow(`${name}.t${step}.p${position}.${kind}`, t, kind, step, position, span, flipped, text, answer, skipped, changed)]);
  }
  for (const [wu, steps] of Object.entries(PROBES)) {
    const t = traj.get(wu)!;
    for (const [step, flipped] of Object.entries(steps)) {
      const readout = flipped ? String(Number(t.answer) + 1) : t.answer;
      await insertCells(sql, identity(t), [cellRow(`${wu}.t${step}.probe`, t, 'probe', Number(step), -1, 'other', flipped, t.text, readout, false, 0)]);
    }
  }
  await sql.query('COMMIT');
}
