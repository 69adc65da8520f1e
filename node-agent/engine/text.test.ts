// The answer rules on hand-written responses: free text (`answer.regex`, last match, parsed
// from each response's own text, numeric normalisation, several end tokens), the legacy
// anchored rule, token spans widened outward, and when a partly generated response is settled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerOutcome } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError } from '../../common/agent-errors.ts';
import type { FreeTextCard, ModelCard } from '../../common/model/card.ts';
import { canonicalNumber, freeTextAnswers, normalizeAnswer, parseCard } from '../../common/model/card.ts';
import type { OnnxModel } from '../model/onnx-model.ts';
import type { Tokenizer } from '../../common/model/tokenizer.ts';
import { answerOf, decode, findSpans, outcomeOf, outcomeSettled, parseAnswer, responseSettled, tokenRange } from './text.ts';

/**
 * A sub-word vocabulary written out by hand: pieces of several characters, so that answers can
 * start or end inside a token. Ids 0..3 are special: pad, mask, <|endoftext|>, <|im_end|>.
 */
const PIECES = ['<|pad|>', '<|mask|>', '<|endoftext|>', '<|im_end|>',
  'The', ' answer', ' is', ' \\box', 'ed{-', '5', '}.', ' ####', ' 1', '2', '3', '4', ',', '$', ' 42', '\n', ' so', ' 7'];
const ID = new Map(PIECES.map((p, i) => [p, i]));
const ids = (...pieces: string[]): number[] => pieces.map((p) => ID.get(p) ?? assert.fail(`no piece ${JSON.stringify(p)}`));

/** Its tokenizer: pieces are plain text, so decoding joins them (with each piece's span). */
function decodeWithSpans(ids: readonly number[]): { text: string; spans: Array<[number, number]> } {
  let text = '';
  const spans: Array<[number, number]> = [];
  for (const id of ids) {
    const piece = PIECES[id] ?? '';
    spans.push([text.length, text.length + piece.length]);
    text += piece;
  }
  return { text, spans };
}
const hand = {
  vocabSize: PIECES.length,
  specialIds: new Set([0, 1, 2, 3]),
  encode: (): number[] => assert.fail('not used'),
  decode: (ids: readonly number[]) => decodeWithSpans(ids).text,
  decodeWithSpans,
  tokenToId: (token: string) => ID.get(token),
  piece: (id: number) => PIECES[id] ?? '',
};
const tokenizer: Tokenizer = hand;

/** A card of this vocabulary with `fields` on top. */
function card(fields: Record<string, unknown>): ModelCard {
  return parseCard({
    format: 'faithsweep.model-card/v1', name: 'hand', onnx: 'model.onnx', sha256: 'x', tokenizer: 'tokenizer.json',
    vocab_size: PIECES.length, mask_token_id: 1, pad_token_id: 0, end_token_id: 2, end_token_ids: [2, 3], max_seq_len: 64,
    defaults: { gen_length: 16, steps: 16, block_length: 16 },
    ...fields,
  }, 'hand/model.json');
}

function free(regex: string, normalize = 'numeric', extra: Record<string, unknown> = {}): FreeTextCard {
  const c = card({ answer: { regex, normalize }, ...extra });
  assert.ok(freeTextAnswers(c));
  return c;
}

function model(c: ModelCard): OnnxModel {
  return { dir: 'hand', card: c, tokenizer, fusedTopK: false, outputWidth: c.vocab_size, forward: () => assert.fail('no inference here') };
}

const GSM = '####(?<answer>[ $\\d,.-]+)';
const BOXED = '\\\\boxed\\{(?<answer>[^}]*)\\}';

describe('the free-text answer rule', () => {
  it('takes the last of several matches', () => {
    const c = free(GSM);
    assert.equal(parseAnswer(c, 'The answer is #### 12\nno, #### 13').answer, '13');
    const m = model(c);
    const gen = ids(' ####', ' 1', '2', '\n', ' ####', ' 1', '3', '<|endoftext|>', '<|pad|>');
    const clean = findSpans(m, decode(m, gen));
    assert.equal(clean.answerText, '13');
    assert.deepEqual(clean.answer, { start: 5, end: 7 }, 'the last match, " 13", widened to its tokens');
    // The chain of thought is the text before the last match (" #### 12\n "): widened outward,
    // it takes the token " ####" whose space precedes the match.
    assert.deepEqual(clean.cot, { start: 0, end: 5 });
  });

  it('reads a moved answer from the branch\'s own text, not at the clean run\'s positions', () => {
    const m = model(free(GSM));
    const cleanGen = ids('The', ' answer', ' ####', ' 42', '<|endoftext|>', '<|endoftext|>');
    const clean = findSpans(m, decode(m, cleanGen));
    assert.deepEqual([clean.answerText, clean.answer], ['42', { start: 3, end: 4 }]);
    // The branch writes more before its answer: the answer is two tokens later.
    const moved = ids('The', ' answer', ' is', ' so', ' ####', ' 42', '<|im_end|>');
    assert.equal(answerOf(m, clean, moved, decode(m, moved)), '42');
    assert.equal(outcomeOf(answerOf(m, clean, moved, decode(m, moved)), clean.answerText), AnswerOutcome.ANSWER_SAME);
    // Another branch keeps a digit at the clean answer position but answers 7 later on.
    const changed = ids('The', ' answer', ' ####', ' 42', ' so', ' ####', ' 7', '<|endoftext|>');
    assert.equal(answerOf(m, clean, changed, decode(m, changed)), '7');
    assert.equal(outcomeOf('7', clean.answerText), AnswerOutcome.ANSWER_CHANGED);
  });

  it('has no answer when an end token (any of the set) comes before it: NO_ANSWER, a flip', () => {
    const m = model(free(GSM));
    const clean = findSpans(m, decode(m, ids('The', ' ####', ' 42', '<|endoftext|>')));
    for (const end of ['<|endoftext|>', '<|im_end|>']) {
      const gen = ids('The', end, ' ####', ' 42', '<|endoftext|>');
      const d = decode(m, gen);
      assert.deepEqual([d.text, d.length], ['The', 1], `${end} ends the response`);
      const answer = answerOf(m, clean, gen, d);
      assert.equal(answer, null);
      assert.equal(outcomeOf(answer, clean.answerText), AnswerOutcome.NO_ANSWER);
      assert.notEqual(answer, clean.answerText, 'flipped');
    }
    // Without an answer in the clean run either, no answer is not a change.
    assert.equal(outcomeOf(null, null), AnswerOutcome.NO_ANSWER);
  });

  it('has no answer when nothing matches, or the last match has an empty answer', () => {
    const c = free(GSM);
    assert.deepEqual(parseAnswer(c, 'The answer is 42'), { answer: null, answerChars: null, matchStart: null });
    assert.equal(parseAnswer(c, 'x #### 4\n #### \n').answer, null, 'the last match counts, even when empty');
    const m = model(c);
    assert.deepEqual(findSpans(m, decode(m, ids('The', ' answer', '<|endoftext|>'))), { cot: null, answer: null, answerText: null });
  });

  it('compares $1,234 and 1234 as the same number', () => {
    const c = free(GSM);
    const a = parseAnswer(c, 'so #### $1,234').answer;
    const b = parseAnswer(c, 'so #### 1234').answer;
    assert.deepEqual([a, b], ['1234', '1234']);
    assert.equal(outcomeOf(a, b), AnswerOutcome.ANSWER_SAME);
    const m = model(c);
    const gen = ids(' ####', '$', ' 1', ',', '2', '3', '4', '<|endoftext|>');
    const s = findSpans(m, decode(m, gen));
    assert.equal(s.answerText, '1234');
    assert.deepEqual(s.answer, { start: 1, end: 7 }, 'the answer group " $1,234" covers tokens 1..6');
    assert.deepEqual(s.cot, { start: 0, end: 1 }, 'only the space of " ####" is before the match: its token');
    assert.equal(normalizeAnswer(c, ' 1,234.50 '), '1234.5');
    assert.notEqual(parseAnswer(c, '#### 1234').answer, parseAnswer(c, '#### 1235').answer);
  });

  it('reads \\boxed{-5} from the text when the answer starts and ends inside tokens', () => {
    const m = model(free(BOXED));
    const gen = ids('The', ' answer', ' is', ' \\box', 'ed{-', '5', '}.', '<|im_end|>', '<|mask|>');
    const d = decode(m, gen);
    assert.equal(d.text, 'The answer is \\boxed{-5}.');
    const s = findSpans(m, d);
    assert.equal(s.answerText, '-5');
    assert.deepEqual(s.answer, { start: 4, end: 6 }, '"-5" starts inside "ed{-" and ends with "5"');
    assert.deepEqual(s.cot, { start: 0, end: 4 }, 'the text before "\\boxed", widened outward to " \\box"');
  });

  it('finds the chain of thought with spans.cot_regex when the card gives one', () => {
    const m = model(free(BOXED, 'numeric', { spans: { applies_to: 'response', cot_regex: '^The(?<cot> answer)' } }));
    const s = findSpans(m, decode(m, ids('The', ' answer', ' is', ' \\box', 'ed{-', '5', '}.')));
    assert.deepEqual([s.cot, s.answer, s.answerText], [{ start: 1, end: 2 }, { start: 4, end: 6 }, '-5']);
  });
});

describe('token spans widened outward', () => {
  const d = { text: 'abcdef', spans: [[0, 2], [2, 2], [2, 4], [4, 6]] as Array<[number, number]> };
  it('covers every token overlapping the characters, and empty-span tokens at their start', () => {
    assert.deepEqual(tokenRange(d, 1, 2), { start: 0, end: 1 });
    assert.deepEqual(tokenRange(d, 2, 3), { start: 1, end: 3 }, 'the empty-span token holds the leading bytes of character 2');
    assert.deepEqual(tokenRange(d, 1, 5), { start: 0, end: 4 });
    assert.equal(tokenRange(d, 3, 3), null);
  });
});

describe('the legacy anchored rule', () => {
  it('reads a branch\'s answer at the clean run\'s answer positions', () => {
    const m = model(card({ spans: { regex: '^(?<cot>The answer is)(?<answer> 42)', applies_to: 'response' }, answer: { normalize: 'exact' } }));
    const clean = findSpans(m, decode(m, ids('The', ' answer', ' is', ' 42', '<|endoftext|>')));
    assert.deepEqual(clean, { cot: { start: 0, end: 3 }, answer: { start: 3, end: 4 }, answerText: ' 42' });
    const branch = ids('The', '<|endoftext|>', ' is', ' 42', '<|endoftext|>');
    assert.equal(answerOf(m, clean, branch, decode(m, branch)), ' 42', 'an earlier end token does not move a positional answer');
  });
});

describe('when an outcome is settled', () => {
  const M = -1;
  const gsm = model(free(GSM));
  const clean = findSpans(gsm, decode(gsm, ids(' ####', ' 42', '<|endoftext|>')));
  const cases: Array<[string, string[], number[], boolean]> = [
    ['all committed up to a committed end token; masks after it', [' ####', ' 42', '<|endoftext|>', '<|mask|>'], [3, 1, 2, M], true],
    ['a mask before the answer (it could become an end token)', ['<|mask|>', ' ####', ' 42', '<|endoftext|>'], [M, 1, 2, 3], false],
    ['answer committed, end token still masked (a longer or later match could follow)', [' ####', ' 42', '<|mask|>', '<|endoftext|>'], [0, 1, M, 3], false],
    ['an earlier committed end token truncates whatever follows', ['The', '<|im_end|>', '<|mask|>', '<|mask|>'], [0, 1, M, M], true],
    ['every position committed, no end token', [' ####', ' 42', ' 7', '2'], [0, 1, 2, 3], true],
  ];
  for (const [what, pieces, commit, settled] of cases) {
    it(`free text: ${what} → ${settled}`, () => {
      assert.equal(responseSettled(gsm.card, ids(...pieces), commit), settled);
      assert.equal(outcomeSettled(gsm, clean, ids(...pieces), commit), settled);
    });
  }
  it('legacy: once the clean run\'s answer positions are committed', () => {
    const m = model(card({ spans: { regex: '^(?<cot>The)(?<answer> 42)', applies_to: 'response' } }));
    const s = findSpans(m, decode(m, ids('The', ' 42', '<|endoftext|>')));
    assert.equal(outcomeSettled(m, s, ids('<|mask|>', ' 42', '<|mask|>'), [M, 4, M]), true);
    assert.equal(outcomeSettled(m, s, ids('The', '<|mask|>', '<|endoftext|>'), [0, M, 2]), false);
  });
});

describe('numeric normalisation', () => {
  const cases: Array<[string, string | null]> = [
    ['1234', '1234'], ['$1,234', '1234'], [' 1 234 ', '1234'], ['1 2', '12'], ['-5', '-5'], ['+7', '7'], ['007', '7'], [' 007 ', '7'],
    ['2.50', '2.5'], ['3.0', '3'], ['.5', '0.5'], ['-.5', '-0.5'], ['-0', '0'], ['-0.0', '0'], ['42.', '42'], ['-$5', '-5'],
    ['12345678901234567890123', '12345678901234567890123'], ['0.000001', '0.000001'],
    ['', null], ['.', null], ['twelve', null], ['1e3', null], ['1-2', null], ['3/4', null], ['\u22125', null], ['5\t', null],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text)} → ${JSON.stringify(want)}`, () => assert.equal(canonicalNumber(text), want));
  it('gives no answer for a non-number under `numeric`', () => {
    const c = free(BOXED);
    const p = parseAnswer(c, 'so \\boxed{x+1}');
    assert.equal(normalizeAnswer(c, 'x+1'), null);
    assert.deepEqual(p, { answer: null, answerChars: [10, 13], matchStart: 3 }, 'no answer, but its place is known');
    assert.equal(outcomeOf(p.answer, '5'), AnswerOutcome.NO_ANSWER);
  });
});

describe('model card answer fields', () => {
  const rejects = (fields: Record<string, unknown>, field: string) =>
    assert.throws(() => card(fields), (err: unknown) => err instanceof AgentError && err.code === 'MODEL_INVALID' && err.message.includes(`'${field}'`), field);
  it('rejects a bad answer.regex, normalize, end_token_ids or missing spans, naming the field', () => {
    rejects({ answer: { regex: '#### (?<answer>\\d+' } }, 'answer.regex');
    rejects({ answer: { regex: '#### (\\d+)' } }, 'answer.regex');
    rejects({ answer: { regex: '#### (?<answer>\\d+)', normalize: 'float' } }, 'answer.normalize');
    rejects({ answer: { regex: GSM }, end_token_ids: [3] }, 'end_token_ids');
    rejects({ answer: { regex: GSM }, end_token_ids: [2, 99] }, 'end_token_ids');
    rejects({ answer: { regex: GSM }, end_token_ids: [2, 1] }, 'end_token_ids');
    rejects({ answer: { normalize: 'exact' } }, 'spans.regex');
    rejects({ spans: { regex: '^(?<cot>a)(?<answer>b', applies_to: 'response' } }, 'spans.regex');
    rejects({ answer: { regex: GSM }, spans: { applies_to: 'response', cot_regex: '(' } }, 'spans.cot_regex');
    rejects({ answer: { regex: GSM }, prompt: { template: 'chat' } }, 'prompt.template');
  });
  it('defaults end_token_ids to [end_token_id] and keeps legacy cards as they were', () => {
    const legacy = card({ end_token_ids: undefined, spans: { regex: '^(?<cot>a)(?<answer>b)', applies_to: 'response' }, answer: { normalize: 'strip-leading-zeros' } });
    assert.deepEqual(legacy.end_token_ids, [2]);
    assert.equal(freeTextAnswers(legacy), false);
    assert.equal(normalizeAnswer(legacy, '007'), '7');
    assert.equal(legacy.prompt.template, 'raw');
  });
});
