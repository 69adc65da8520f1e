/**
 * Renders a clean trajectory as a "film strip": the generated region at every step, masks
 * visible, the tokens committed at that step highlighted, so a person can watch the answer
 * form. Pure text; the CLI decides about colour.
 */
import type { CleanTrajectory } from '../generated/proto/faithsweep/v1/agent.ts';
import type { Tokenizer } from './model/tokenizer.ts';

/** How to draw masks and highlights. */
export interface FilmStripStyle {
  /** Drawn for a masked position. @default '·' */
  readonly mask: string;
  /** Wraps a token committed at this step. @default ANSI inverse video */
  readonly highlight: (s: string) => string;
  /** Drawn for end tokens. @default '∎' */
  readonly end: string;
}

const ANSI: FilmStripStyle = { mask: '·', end: '∎', highlight: (s) => `\x1b[7m${s}\x1b[0m` };
/** For terminals without colour: newly committed tokens in brackets would shift columns, so they are upper-cased markers below the line instead. */
export const PLAIN_STYLE: FilmStripStyle = { mask: '·', end: '∎', highlight: (s) => s };

/** One line per step: `step  sequence  (+n committed)`, plus a marker line in plain style. */
export function renderFilmStrip(traj: CleanTrajectory, tok: Tokenizer, endId: number, style: FilmStripStyle = ANSI): string[] {
  const steps = traj.commitStep.length === 0 ? 0 : Math.max(...traj.commitStep) + 1;
  const width = String(steps).length;
  const lines: string[] = [];
  const draw = (id: number) => (id === endId ? style.end : tok.piece(id));
  for (let s = 0; s < steps; s++) {
    let line = '';
    let marks = '';
    let added = 0;
    for (let i = 0; i < traj.tokens.length; i++) {
      const c = traj.commitStep[i]!;
      const piece = c <= s ? draw(traj.tokens[i]!) : style.mask;
      if (c === s) {
        line += style.highlight(piece);
        marks += '^'.repeat([...piece].length);
        added++;
      } else {
        line += piece;
        marks += ' '.repeat([...piece].length);
      }
    }
    lines.push(`${String(s).padStart(width)}  ${line}  (+${added})`);
    if (style === PLAIN_STYLE) lines.push(`${' '.repeat(width)}  ${marks.trimEnd()}`);
  }
  return lines;
}
