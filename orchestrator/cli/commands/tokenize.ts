/**
 * `faithsweep tokenize`: shows how a model's tokenizer splits text — ids, vocabulary pieces
 * and each token's character span in the decoded text (common/text/tokenizer.ts) — for one
 * --text or for every line (a JSON string) of a --file.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TextTokenizer } from '../../../common/text/tokenizer.ts';
import { loadTokenizer } from '../../../common/text/tokenizer.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { command } from '../../../common/cli/command.ts';

/** tokenizer.json (and tokenizer_config.json when present) of a model named under the models folder. */
function modelTokenizerPaths(modelsDir: string, name: string): { json: string; config: string | undefined } {
  const dir = join(modelsDir, name);
  const cardPath = join(dir, 'model.json');
  if (!existsSync(cardPath)) {
    const known = existsSync(modelsDir) ? readdirSync(modelsDir).filter((n) => existsSync(join(modelsDir, n, 'model.json'))) : [];
    throw new FaithsweepError(ErrorCode.MODEL_NOT_FOUND, `no model '${name}' under ${modelsDir} (no ${cardPath})`, {
      hint: known.length ? `models there: ${known.join(', ')}; or pass --tokenizer DIR` : 'set FAITHSWEEP_MODELS to the models folder, or pass --tokenizer DIR',
    });
  }
  let card: Record<string, unknown>;
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${cardPath} is not valid JSON: ${(err as Error).message}`);
  }
  const tokenizer = typeof card['tokenizer'] === 'string' ? card['tokenizer'] : 'tokenizer.json';
  const config = typeof card['tokenizer_config'] === 'string' ? join(dir, card['tokenizer_config']) : undefined;
  return { json: join(dir, tokenizer), config };
}

/** tokenizer.json (and tokenizer_config.json when present) of a directory. */
function dirTokenizerPaths(dir: string): { json: string; config: string | undefined } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `tokenizer directory ${dir} does not exist`, { hint: 'pass a directory that holds tokenizer.json' });
  const json = join(dir, 'tokenizer.json');
  if (!existsSync(json)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `${dir} has no tokenizer.json`, { hint: 'pass a directory that holds a Hugging Face tokenizer.json' });
  const config = join(dir, 'tokenizer_config.json');
  return { json, config: existsSync(config) ? config : undefined };
}

/** The texts of a --file: one JSON string per line; blank lines are skipped. */
function readTexts(file: string): string[] {
  if (!existsSync(file)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `file ${file} does not exist`);
  if (statSync(file).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `file ${file} is a directory, not a file of texts`, { hint: 'give a file with one JSON string per line' });
  const texts: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        throw new FaithsweepError(ErrorCode.BAD_ARGS, `${file}:${i + 1}: not valid JSON (${(err as Error).message})`, { hint: 'write one JSON string per line, e.g. "12 apples\\n"' });
      }
      if (typeof v !== 'string') throw new FaithsweepError(ErrorCode.BAD_ARGS, `${file}:${i + 1}: expected a JSON string, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`, { hint: 'write one JSON string per line' });
      texts.push(v);
    });
  return texts;
}

/** One tokenized text, as --json prints it. */
interface Tokenized {
  ids: number[];
  tokens: string[];
  spans: Array<[number, number]>;
  text: string;
}

function tokenizeOne(tok: TextTokenizer, text: string, addSpecialTokens: boolean): Tokenized {
  const ids = tok.encode(text, { addSpecialTokens });
  const d = tok.decodeWithSpans(ids);
  return { ids, tokens: ids.map((id) => tok.piece(id)), spans: d.spans, text: d.text };
}

/** Human table: index, id, vocabulary piece, span and the decoded text of the span. */
function table(t: Tokenized, input: string): string[] {
  const rows = t.ids.map((id, i) => [String(i), String(id), JSON.stringify(t.tokens[i]), `${t.spans[i]![0]}-${t.spans[i]![1]}`, JSON.stringify(t.text.slice(...t.spans[i]!))]);
  const head = ['#', 'id', 'token', 'span', 'text'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
  return [
    `input   ${JSON.stringify(input)}`,
    `decoded ${JSON.stringify(t.text)}${t.text === input ? '' : '  (differs from the input: normalised or dropped characters)'}`,
    `${t.ids.length} token(s)`,
    fmt(head),
    ...rows.map(fmt),
  ];
}

export const tokenizeCommand = command({
  name: 'tokenize',
  summary: "Show how a model's tokenizer splits text: ids, tokens and character spans",
  args: '(--model NAME | --tokenizer DIR) (--text TEXT | --file FILE)',
  options: {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    text: { type: 'string' },
    file: { type: 'string' },
    'add-special-tokens': { type: 'boolean' },
  },
  details: [
    '--model NAME          a model under the models folder (FAITHSWEEP_MODELS, default models/): its card names the files',
    '--tokenizer DIR       a directory with a Hugging Face tokenizer.json (and optionally tokenizer_config.json)',
    '--text TEXT           the text to tokenize; special tokens written in it (<|im_end|>) are recognised',
    '--file FILE           one JSON string per line (blank lines skipped), e.g. "Tom has $1,234.\\n"',
    '--add-special-tokens  add BOS/EOS as the tokenizer config / post-processor says (default: none)',
    '--json                one JSON object per text: {ids, tokens, spans: [[start, end], ...], text}',
    'Spans are [start, end) in UTF-16 code units of the decoded text; a token that ends inside a',
    'multi-byte character has an empty span and the token completing it gets the character (docs/text.md).',
  ],
  async run(ctx, { values, positionals }) {
    if (positionals.length) throw new FaithsweepError(ErrorCode.BAD_ARGS, `tokenize takes no positional arguments (got '${positionals[0]}')`, { hint: 'pass the text with --text "..."' });
    const model = values['model'] as string | undefined;
    const dir = values['tokenizer'] as string | undefined;
    const text = values['text'] as string | undefined;
    const file = values['file'] as string | undefined;
    if ((model === undefined) === (dir === undefined)) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'pass exactly one of --model NAME and --tokenizer DIR', { hint: 'e.g. faithsweep tokenize --model arith-cot --text "0347+1285="' });
    if ((text === undefined) === (file === undefined)) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'pass exactly one of --text TEXT and --file FILE', { hint: 'e.g. --text "Tom has 12 apples."' });
    const paths = model !== undefined ? modelTokenizerPaths(ctx.paths.modelsDir, model) : dirTokenizerPaths(dir!);
    const texts = text !== undefined ? [text] : readTexts(file!);
    const tok = await loadTokenizer(paths.json, paths.config);
    const add = Boolean(values['add-special-tokens']);
    texts.forEach((t, i) => {
      const r = tokenizeOne(tok, t, add);
      if (ctx.json) ctx.out(JSON.stringify(r));
      else {
        if (i > 0) ctx.out('');
        for (const line of table(r, t)) ctx.out(line);
      }
    });
    return 0;
  },
});
