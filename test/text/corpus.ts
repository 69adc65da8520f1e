/**
 * Test strings for the tokenizer parity tests: word problems with numbers, currency, LaTeX
 * answers, GSM8K-style markers, the arithmetic organisms' format, unicode (CJK, emoji with
 * ZWJ and flags, combining marks, right-to-left and Indic scripts, rare characters that
 * byte-level BPE splits mid-character), whitespace runs and newlines, and special tokens
 * written in the text. Deterministic (seeded), so a failure names the same string every run.
 */

import { mulberry32 as rng } from '../../common/random/mulberry32.ts';

const NAMES = ['Tom', 'Aisha', 'Chen Wei', 'María', 'Olu', 'Zoë', 'Jürgen', 'Priya', 'Kenji', "O'Brien"];
const ITEMS = ['apples', 'pencils', 'tickets', 'marbles', 'cupcakes', 'books', 'stamps', 'eggs'];

const WORD_PROBLEMS = [
  (n: string, i: string, a: number, b: number) => `${n} has ${a} ${i} and buys ${b} more. How many ${i} does ${n} have now?`,
  (n: string, i: string, a: number, b: number) => `${n} had ${a} ${i}. She gave away ${b}. How many are left?`,
  (n: string, i: string, a: number, b: number) => `A box holds ${a} ${i}. ${n} fills ${b} boxes. How many ${i} in total?`,
  (n: string, i: string, a: number, b: number) => `${n} earns $${a} per hour and works ${b} hours. How much does ${n} earn?`,
  (n: string, _i: string, a: number, b: number) => `If ${a}% of ${b * 10} students passed, how many passed?`,
  (n: string, i: string, a: number, b: number) => `${n} splits ${a * b} ${i} equally among ${b} friends.\nEach friend gets ${a}.\n#### ${a}`,
  (_n: string, _i: string, a: number, b: number) => `Step 1: ${a} + ${b} = ${a + b}\nStep 2: ${a + b} × 2 = ${(a + b) * 2}\nThe answer is ${(a + b) * 2}.`,
  (_n: string, _i: string, a: number, b: number) => `${a} - ${b} = <<${a}-${b}=${a - b}>>${a - b}\n#### ${a - b}`,
];

const FIXED = [
  // currency and numbers
  '$1,234', '$1,234.56', 'It costs $1,234,567.89 in total.', '-$5', '($12.50)', '€12,50', '£3.99', '¥1000', '₹2,50,000', '0.5', '.5', '1e-3', '3.14159',
  '1/2 + 3/4 = 5/4', '100%', '−5 (a minus sign)', '１２３ full-width digits', '007', '000123', '12:30pm', '2024-03-15', '+1 (555) 010-9999',
  // LaTeX answers
  '\\boxed{-5}', 'The answer is \\boxed{1,234}.', '\\boxed{\\frac{3}{4}}', '$\\frac{a}{b}$ and $$x^2 + y^2 = z^2$$', '\\(\\sqrt{2}\\)', 'So \\boxed{42}',
  'answer: \\boxed{ 7 }', '\\text{dollars}', '\\left( x \\right)',
  // GSM8K and chain-of-thought markers
  '#### 42', '####42', '#### -17', '<<48/2=24>>24', 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72', 'Let me think step by step.',
  '<think>\nOkay, 2+3=5.\n</think>\n\nThe answer is 5.',
  // arithmetic organisms
  '0347+1285=', '0099+0001=', '745>12;300>03;426>06;011>01|01632', '9999+9999=', '0000+0000=', '12+3=', '745>12;300>03|', '|01632',
  // unicode
  '漢字とかな', '中文：一共有12个苹果。', '답은 42입니다', 'Ответ: 42', 'Η απάντηση είναι 42', 'الجواب هو ٤٢', 'התשובה היא 42', 'उत्तर ४२ है', 'คำตอบคือ 42', 'ཨོཾ',
  '😀', '👍🏽', '🧑‍🚀', '👨‍👩‍👧‍👦 family', '🇯🇵🇫🇷', '❤️', '1️⃣', 'e\u0301 (decomposed é)', 'é (precomposed)', 'n\u0303o', 'a\u0308\u0304', 'Z\u0351\u0364\u036b',
  '龘', '𠜎𠜱𠝹', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟏𝟐𝟑', 'ﬁ ligature', 'Å Å', '\u200b zero width', 'soft\u00adhyphen', '\u00a0nbsp', 'tab\there', 'ǅ', 'ß', 'İstanbul',
  '∑ᵢ xᵢ² ≤ ∞', '→ ⇒ ∀∃', '½ ¾ ⅓', '°C', '™ © ®', '« guillemets »', '“smart quotes”', '‘single’', '—em dash–en dash', '…', '·•',
  // whitespace
  ' ', '  ', '   leading', 'trailing   ', 'a  b   c    d', '\n', '\n\n', '\n\n\n\n', 'a\nb', 'a\n\nb', 'line1\r\nline2', '\t\t', ' \n \n ', 'x \n', '  \n  indented',
  'a\u3000b', 'end.\n', '\n\nstart',
  // special tokens written in the text
  '<|im_end|>', '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n', 'text<|im_end|>more', '<|im_end|><|im_end|>', '<|im_end', '|im_end|>',
  '<|endoftext|>', '<|begin_of_text|>Hello', '<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>', '<|eot_id|>', '<|end|>', '12+3=<|end|>', '<|mask|><|mask|>', '<|pad|>',
  '< |im_end| >', '<|IM_END|>', ' <|im_end|> ', '<think></think>',
  // code and punctuation
  'print("hello, world")', 'if (a && b) { return -1; }', "don't won't I'm you're we've", "IT'S A TEST", '...!?!?', '(((nested)))', '[1, 2, 3]', '{"a": 1}',
  'http://example.com/a?b=c&d=e', 'user@example.com', 'snake_case camelCase kebab-case', 'ALLCAPS and MiXeD',
];

/** The parity corpus: the fixed strings, generated word problems and random mixes (>= 200 strings). */
export function parityStrings(): string[] {
  const r = rng(20240601);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const num = () => [Math.floor(r() * 10), Math.floor(r() * 100), Math.floor(r() * 1000), Math.floor(r() * 100000)][Math.floor(r() * 4)]!;
  const out = [...FIXED];
  for (let k = 0; k < 64; k++) out.push(pick(WORD_PROBLEMS)(pick(NAMES), pick(ITEMS), num() + 1, num() + 1));
  const pool = [...'abcxyzABCXYZ0123456789 .,;:!?$%#@&*()[]{}<>|+-=/\\\'"\n\t', 'é', '漢', '字', '😀', '🧑‍🚀', '▁', 'Ġ', '\u0301', '…', '€', '<|im_end|>', '<|end|>', '  ', '\n\n'];
  for (let k = 0; k < 40; k++) {
    const n = 1 + Math.floor(r() * 30);
    let s = '';
    for (let j = 0; j < n; j++) s += pick(pool);
    out.push(s);
  }
  const digits = (len: number) => Array.from({ length: len }, () => Math.floor(r() * 10)).join('');
  for (let k = 0; k < 12; k++) out.push(`${digits(4)}+${digits(4)}=`, `${digits(3)}>${digits(2)};${digits(3)}>${digits(2)}|${digits(5)}`);
  return out;
}

/**
 * Id sequences that are not the encoding of any text, for decode parity: seeded random ids
 * below `vocabSize` (which split multi-byte characters anywhere and mix special tokens in),
 * and the reversed encodings of the corpus strings.
 */
export function decodeSequences(vocabSize: number, encodings: readonly number[][], seed: number): number[][] {
  const r = rng(seed);
  const out: number[][] = [];
  for (let k = 0; k < 60; k++) out.push(Array.from({ length: 1 + Math.floor(r() * 24) }, () => Math.floor(r() * vocabSize)));
  for (const ids of encodings) if (ids.length > 1) out.push([...ids].reverse());
  return out;
}
