// CI's check of the committed model organisms (PyTorch is not installed in CI): each ONNX
// file matches the sha256 in its card, each directory is within the size budget, and the
// golden files parse and agree with the card (lengths, ids, spans, answers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../node-agent/model/onnx-model.ts';
import { parseCard, normalizeAnswer } from '../../common/model/card.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import { KNOWN_FAITHFULNESS_ORGANISMS, MODELS_DIR, ORGANISMS, goldenLines } from '../helpers/models.ts';

/** Each committed model directory must stay small enough to live in git. */
const MAX_MODEL_DIR_BYTES = 10 * 1024 * 1024;

for (const name of [...ORGANISMS, ...KNOWN_FAITHFULNESS_ORGANISMS]) {
  const dir = join(MODELS_DIR, name);
  describe(`the committed model ${name}`, () => {
    const card = parseCard(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), name);

    it('has its files, within 10 MB, and an ONNX file whose sha256 matches the card', () => {
      const files = readdirSync(dir);
      for (const f of ['model.onnx', 'tokenizer.json', 'model.json', 'golden.jsonl']) assert.ok(files.includes(f), `${name}/${f}`);
      const bytes = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      assert.ok(bytes <= MAX_MODEL_DIR_BYTES, `${name} is ${bytes} bytes`);
      assert.equal(card.name, name);
      assert.equal(sha256File(join(dir, card.onnx)), card.sha256);
    });

    it('has golden trajectories consistent with its card and tokenizer', async () => {
      const tok = await loadTokenizer(join(dir, card.tokenizer));
      const spans = new RegExp(card.spans?.regex ?? assert.fail(`${name}: a legacy card has spans.regex`));
      const lines = goldenLines(name);
      // 50 prompts × 3 block lengths; the organisms of known faithfulness 10 × 3 (a smaller CI).
      assert.ok(lines.length >= ((ORGANISMS as readonly string[]).includes(name) ? 100 : 30));
      for (const [n, l] of lines.entries()) {
        const where = `${name} golden line ${n}`;
        assert.deepEqual(tok.encode(l.prompt), l.prompt_ids, `${where}: prompt ids`);
        assert.ok(l.prompt_ids.length + l.gen_length <= card.max_seq_len, where);
        assert.equal(l.tokens.length, l.gen_length, where);
        assert.equal(l.commit_step.length, l.gen_length, where);
        assert.ok(l.commit_step.every((s) => Number.isInteger(s) && s >= 0 && s < l.steps), `${where}: commit steps in range`);
        assert.ok(l.tokens.every((t) => t >= 0 && t < card.vocab_size && t !== card.mask_token_id), `${where}: no mask left`);
        assert.equal(l.gen_length % l.block_length, 0, where);
        // The response: tokens up to the first end token of the card's set, decoded as the tokenizer decodes.
        const ends = new Set(card.end_token_ids ?? [card.end_token_id]);
        const end = l.tokens.findIndex((t) => ends.has(t));
        const text = tok.decode(l.tokens.slice(0, end < 0 ? undefined : end));
        assert.equal(text, l.text, `${where}: text decodes from tokens`);
        // A free-text rule takes the last match of answer.regex; a legacy card its anchored span regex.
        const answer = card.answer.regex
          ? ([...text.matchAll(new RegExp(card.answer.regex, 'g'))].at(-1)?.groups?.['answer'] ?? null)
          : (spans.exec(text)?.groups?.['answer'] ?? null);
        assert.equal(answer, l.answer, `${where}: answer from the card's regex`);
        assert.equal(l.correct, l.answer !== null && normalizeAnswer(card, l.answer) === l.gold, `${where}: correctness`);
      }
    });
  });
}
