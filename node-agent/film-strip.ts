/**
 * Renders a clean trajectory as a "film strip": the generated region after every step, with
 * the tokens committed at that step highlighted and, at positions still masked, the model's
 * current top-1 guess (from the film strip the engine recorded: the guess of the forward pass
 * that follows the step, `CleanTrajectory.filmStrip[step + 1]`), so that a person sees how the
 * model's picture of the sequence changes over time, not only the order of commits. A legend
 * says what each mark means and a ruler gives the generated positions (those of `grid.positions`).
 * Pure text; the CLI decides about colour.
 *
 * Every position is drawn in a cell of the same width (the widest piece shown, at most
 * {@link MAX_CELL} characters, longer pieces cut with `…`), so that columns line up with the
 * ruler whatever the tokenizer; the character-level organisms get one character per position.
 */
import type { CleanTrajectory, ParaphraseEvent } from '../generated/proto/faithsweep/v1/agent.ts';
import type { Tokenizer } from '../common/model/tokenizer.ts';

/** Widest a position's cell gets (sub-word pieces can be long; the strip must stay readable). */
export const MAX_CELL = 8;

/** How to draw masks, guesses and highlights. */
export interface FilmStripStyle {
  /** Drawn for a masked position without a recorded guess. */
  readonly mask: string;
  /** Wraps a token committed at this step. */
  readonly highlight: (s: string) => string;
  /** Wraps the model's guess at a still-masked position. */
  readonly guess: (s: string) => string;
  /** Drawn for end tokens. */
  readonly end: string;
  /**
   * Without colour, what cannot be shown in the sequence line is shown in a marker line below
   * it: `^` under tokens committed at this step, `?` under guesses at still-masked positions.
   */
  readonly markerLine: boolean;
}

/** ANSI terminals: new tokens in inverse video, guesses dimmed (SGR 2). */
export const ANSI_STYLE: FilmStripStyle = { mask: '·', end: '∎', highlight: (s) => `\x1b[7m${s}\x1b[0m`, guess: (s) => `\x1b[2m${s}\x1b[0m`, markerLine: false };
/** Without colour (NO_COLOR, not a terminal): the marker line says which tokens are new (`^`) and which are guesses (`?`). */
export const PLAIN_STYLE: FilmStripStyle = { mask: '·', end: '∎', highlight: (s) => s, guess: (s) => s, markerLine: true };

/** What {@link renderFilmStrip} needs of a tokenizer. */
type Pieces = Pick<Tokenizer, 'piece'>;

/** A piece as one printable cell: control characters and newlines made visible. */
function printable(s: string): string {
  return s.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/\p{Cc}/gu, '�');
}

function fit(s: string, width: number): string {
  const chars = [...s];
  if (chars.length > width) return chars.slice(0, width - 1).join('') + '…';
  return s + ' '.repeat(width - chars.length);
}

/**
 * The ruler over `n` positions drawn `width` characters each: position numbers at every
 * k-th position, k the smallest of 1, 2, 5, 10, 20, 50, … that leaves room for the numbers.
 */
export function ruler(n: number, width: number): string {
  const room = String(Math.max(0, n - 1)).length + 1;
  let k = 1;
  for (let scale = 1; k * width < room; scale *= 10) k = [1, 2, 5, 10].map((b) => b * scale).find((c) => c * width >= room) ?? scale * 10;
  const out = Array<string>(n * width).fill(' ');
  for (let p = 0; p < n; p += k) [...String(p)].forEach((ch, i) => { if (p * width + i < out.length) out[p * width + i] = ch; });
  return out.join('').trimEnd();
}

/** The legend lines for `style` (the end token named by its piece). */
export function filmStripLegend(style: FilmStripStyle, endPiece: string, hasGuesses: boolean): string[] {
  const guesses = hasGuesses
    ? style.markerLine
      ? `? below a token: the position is still masked and the token is the model's current guess there`
      : `dimmed: the model's current guess at a still-masked position`
    : 'no guesses were recorded';
  return [
    `legend: one line per step (the sequence after it; +n committed at that step); positions as in grid.positions (ruler)`,
    `        ${style.markerLine ? '^ below a token: committed at this step' : `${style.highlight('inverse')}: committed at this step`}; ${guesses}`,
    `        ${style.mask} masked (no guess shown); ${style.end} end token ${endPiece}; committed tokens never change`,
  ];
}

/**
 * The film strip of `traj`: the legend, the ruler, then per step `step  sequence  (+n)` (and,
 * in {@link PLAIN_STYLE}, a marker line under it). Guesses appear where `traj.filmStrip` has
 * the frame after the step (`recordFilmStrip` in the request); without frames masks stay `·`.
 */
export function renderFilmStrip(traj: CleanTrajectory, tok: Pieces, endId: number, style: FilmStripStyle = ANSI_STYLE): string[] {
  const events = traj.paraphraseEvents ?? [];
  const steps = traj.commitStep.length === 0 ? 0 : Math.max(...traj.commitStep, ...events.map((e) => e.step)) + 1;
  // Paraphrase-remask (docs/paraphrase.md): events rewrite committed tokens, so the state after
  // step s is the one recorded before the first event at or after s (its tokens committed by s),
  // or the final state after the last event.
  const stateAt = (s: number): { tokens: readonly number[]; commit: readonly number[] } => {
    const e = events.find((ev) => ev.step >= s);
    return e ? { tokens: e.tokensBefore, commit: e.commitBefore } : { tokens: traj.tokens, commit: traj.commitStep };
  };
  const n = traj.tokens.length;
  const frames = new Map(traj.filmStrip.map((f) => [f.step, f.guess]));
  const draw = (id: number) => (id === endId ? style.end : printable(tok.piece(id)));
  // One cell width for every position: the widest piece that will be shown.
  let width = [...style.mask].length;
  for (const id of traj.tokens) width = Math.max(width, [...draw(id)].length);
  for (const e of events) e.tokensAfter.forEach((id, i) => { if (e.commitAfter[i]! >= 0) width = Math.max(width, [...draw(id)].length); });
  for (const f of traj.filmStrip) for (const id of f.guess) width = Math.max(width, [...draw(id)].length);
  width = Math.min(width, MAX_CELL);
  const label = String(Math.max(0, steps - 1)).length;
  const indent = ' '.repeat(label + 2);
  const legend = filmStripLegend(style, printable(tok.piece(endId)), frames.size > 0);
  if (events.length > 0) {
    legend[2] = legend[2]!.replace('; committed tokens never change', '');
    legend.push(`        ⟲ paraphrase event after the step: the text before → after, then the region re-laid with the remasked positions (${style.markerLine ? 'r below' : style.highlight('inverse')}) masked`);
  }
  const lines = [...legend, `${indent}${ruler(n, width)}`];
  for (let s = 0; s < steps; s++) {
    const next = frames.get(s + 1);
    const st = stateAt(s);
    let line = '';
    let marks = '';
    let added = 0;
    for (let i = 0; i < n; i++) {
      const c = st.commit[i]!;
      if (c >= 0 && c <= s) {
        const cell = fit(draw(st.tokens[i]!), width);
        if (c === s) added++;
        line += c === s ? style.highlight(cell) : cell;
        marks += fit(c === s ? '^' : '', width);
      } else if (next) {
        line += style.guess(fit(draw(next[i]!), width));
        marks += fit('?', width);
      } else {
        line += fit(style.mask, width);
        marks += fit('', width);
      }
    }
    lines.push(`${String(s).padStart(label)}  ${line.trimEnd()}  (+${added})`);
    if (style.markerLine) lines.push(`${indent}${marks}`.trimEnd());
    for (const e of events.filter((ev) => ev.step === s)) lines.push(...eventLines(e, draw, width, indent, style));
  }
  return lines;
}

/**
 * The lines of one paraphrase event: `⟲ paraphraser: "before" → "after"` (texts cut to
 * {@link MAX_EVENT_TEXT} characters), then the region after the re-lay with the remasked positions
 * marked (highlighted, or `r` in the marker line) and `(−n remasked)`.
 */
function eventLines(e: ParaphraseEvent, draw: (id: number) => string, width: number, indent: string, style: FilmStripStyle): string[] {
  // Masked positions travel as the mask token's string; shown as the strip's mask mark.
  const maskAt = e.commitAfter.findIndex((c) => c < 0);
  const marker = maskAt >= 0 ? draw(e.tokensAfter[maskAt]!) : null;
  const show = (t: string) => printable(marker ? t.split(marker).join(style.mask) : t);
  const cut = (t: string) => JSON.stringify(t.length > MAX_EVENT_TEXT ? `${t.slice(0, MAX_EVENT_TEXT - 1)}…` : t);
  const remasked = new Set(e.remasked);
  let line = '';
  let marks = '';
  for (let i = 0; i < e.tokensAfter.length; i++) {
    if (remasked.has(i)) {
      line += style.highlight(fit(style.mask, width));
      marks += fit('r', width);
    } else {
      line += fit(e.commitAfter[i]! >= 0 ? draw(e.tokensAfter[i]!) : style.mask, width);
      marks += fit('', width);
    }
  }
  const head = `${indent.slice(2)}⟲ paraphrase (${e.paraphraser}): ${cut(show(e.before))} → ${cut(show(e.after))}${e.truncated ? ' (cut at gen_length)' : ''}`;
  const out = [head, `${indent}${line.trimEnd()}  (−${e.remasked.length} remasked)`];
  if (style.markerLine) out.push(`${indent}${marks}`.trimEnd());
  return out;
}

/** Longest before/after text an event line shows, in characters. */
export const MAX_EVENT_TEXT = 120;
