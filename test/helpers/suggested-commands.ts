/**
 * The commands and SQL the documentation suggests, read out of README.md and docs/*.md so that
 * a test can run each against a real sweep (test/sweep/suggested-commands.test.ts): every
 * `npx faithsweep …` line in a code block or an inline code span, and every statement of a
 * ```sql block.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';

/** A suggestion found in a document: where it is and its text. */
export interface Suggestion {
  readonly where: string;
  readonly text: string;
}

/** README.md and every docs/*.md, relative to the repository. */
export function documents(): string[] {
  return ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

function quotesOpen(text: string): boolean {
  let q: string | null = null;
  for (const ch of text) {
    if (q) { if (ch === q) q = null; } else if (ch === '"' || ch === "'") q = ch;
  }
  return q !== null;
}

/** Every `npx faithsweep …` command of the documents (a quoted argument may span lines). */
export function documentedCommands(files = documents()): Suggestion[] {
  const out: Suggestion[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    let fence: string | null = null;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const f = /^\s*```(\w*)/.exec(line);
      if (f) { fence = fence === null ? f[1]! : null; continue; }
      if (fence !== null && fence !== 'sql' && fence !== 'yaml' && fence !== 'ini') {
        const at = line.search(/(^|\$ )npx faithsweep /);
        if (at < 0) continue;
        let text = line.slice(at).replace(/^\$ /, '');
        const start = i;
        while ((quotesOpen(text) || text.endsWith('\\')) && i + 1 < lines.length) text = `${text.replace(/\\$/, '')}\n${lines[++i]!}`;
        out.push({ where: `${file}:${start + 1}`, text });
      } else if (fence === null) {
        for (const m of line.matchAll(/`(npx faithsweep [^`]+)`/g)) out.push({ where: `${file}:${i + 1}`, text: m[1]! });
      }
    }
  }
  return out;
}

/** Every statement of the documents' ```sql blocks. */
export function documentedSql(files = documents()): Suggestion[] {
  const out: Suggestion[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    let inSql = false;
    let stmt: string[] = [];
    let start = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (/^\s*```/.test(line)) { inSql = !inSql && /^\s*```sql/.test(line); stmt = []; continue; }
      if (!inSql) continue;
      const code = line.replace(/--.*$/, '').trim();
      if (!code) continue;
      if (stmt.length === 0) start = i;
      stmt.push(code);
      if (code.endsWith(';')) {
        out.push({ where: `${file}:${start + 1}`, text: stmt.join('\n').replace(/;$/, '') });
        stmt = [];
      }
    }
  }
  return out;
}

/**
 * The words of a shell command line as a POSIX shell splits them (single and double quotes;
 * no expansion), stopping at an unquoted `#`, `>`, `|` or `&` (comments, redirections,
 * pipelines and background jobs are not part of the command).
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let q: string | null = null;
  for (const ch of text) {
    if (q) {
      if (ch === q) q = null;
      else word = (word ?? '') + ch;
    } else if (ch === '"' || ch === "'") {
      q = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if ('#>|&'.includes(ch) && word === null) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
