// common/text/tokenizer.ts beyond parity: coded load errors, the agent's refusal of prompt
// characters a character-level vocabulary cannot represent, and span invariants.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { isFaithsweepError } from '../../common/errors.ts';
import { isAgentError } from '../../common/agent-errors.ts';
import { loadAgentTokenizer } from '../../common/model/tokenizer.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import { parityStrings } from './corpus.ts';

const ORGANISM = join(REPO_ROOT, 'models', 'arith-cot');
const LLAMA3 = join(REPO_ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');

describe('TextTokenizer', () => {
  it('fails with MODEL_NOT_FOUND / MODEL_INVALID naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faithsweep-tok-'));
    try {
      await assert.rejects(loadTokenizer(join(dir, 'tokenizer.json')), (e: unknown) => isFaithsweepError(e) && e.code === 'MODEL_NOT_FOUND' && e.message.includes(dir));
      writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
      await assert.rejects(loadTokenizer(join(dir, 'tokenizer.json')), (e: unknown) => isFaithsweepError(e) && e.code === 'MODEL_INVALID' && /not valid JSON/.test(e.message));
      writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
      await assert.rejects(loadTokenizer(join(dir, 'tokenizer.json')), (e: unknown) => isFaithsweepError(e) && e.code === 'MODEL_INVALID' && /no model/.test(e.message));
      await assert.rejects(loadAgentTokenizer(dir, 'nope.json'), (e: unknown) => isAgentError(e) && e.code === 'MODEL_INVALID');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the character-level organism through the same code, one token per character plus added tokens', async () => {
    const tok = await loadAgentTokenizer(ORGANISM, 'tokenizer.json');
    const ids = tok.encode('0347+1285=<|end|>');
    assert.equal(ids.length, 11);
    assert.equal(tok.piece(ids[10]!), '<|end|>');
    assert.ok(tok.specialIds.has(ids[10]!));
    assert.equal(tok.vocabSize, 18);
    assert.deepEqual(tok.decodeWithSpans(ids).spans.slice(0, 3), [[0, 1], [1, 2], [2, 3]]);
    // The library drops what the vocabulary cannot represent, as Hugging Face does; the agent refuses it.
    const plain = await loadTokenizer(join(ORGANISM, 'tokenizer.json'));
    assert.deepEqual(plain.encode('12x3'), plain.encode('123'));
    assert.throws(() => tok.encode('12x3'), (e: unknown) => isAgentError(e) && e.code === 'BAD_REQUEST' && e.message === 'prompt character "x" at offset 2 is not in the model\'s vocabulary');
  });

  it('gives spans that tile the decoded text, in order, with empty spans for tokens ending mid-character', async () => {
    const tok = await loadTokenizer(join(LLAMA3, 'tokenizer.json'), join(LLAMA3, 'tokenizer_config.json'));
    let empty = 0;
    for (const s of parityStrings()) {
      const { text, spans } = tok.decodeWithSpans(tok.encode(s));
      let at = 0;
      for (const [a, b] of spans) {
        assert.equal(a, at, JSON.stringify(s));
        assert.ok(b >= a);
        if (a === b) empty++;
        at = b;
      }
      assert.equal(at, text.length);
      assert.equal(spans.map(([a, b]) => text.slice(a, b)).join(''), text);
    }
    assert.ok(empty > 0);
    // '龘' is three byte-level tokens in Llama-3: the last one carries the character.
    const ids = tok.encode('龘');
    const { spans } = tok.decodeWithSpans(ids);
    assert.ok(ids.length > 1);
    assert.deepEqual(spans[spans.length - 1], [0, 1]);
    assert.ok(spans.slice(0, -1).every(([a, b]) => a === 0 && b === 0));
    // Unknown ids decode to nothing and get an empty span at their place.
    assert.deepEqual(tok.decodeWithSpans([tok.tokenToId('a')!, 10_000_000, tok.tokenToId('b')!]), { text: 'ab', spans: [[0, 1], [1, 1], [1, 2]] });
    assert.equal(tok.decode([]), '');
  });
});
