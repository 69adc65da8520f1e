// `faithsweep sample` on a real organism: lengths it must refuse (an explicit 0 is not "the
// default"), a negative seed named as such, steps beyond gen_length, and correctness that is
// unknown (null) when no gold answer is given; every sampler option as a flag, reproducing the Python
// reference's golden lines (models/arith-cot/golden-modes.jsonl), and bad option values refused
// naming the flag.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';
import { dispatch, group } from '../common/cli/command.ts';
import { sampleCommand } from '../node-agent/cli/sample-command.ts';
import { contextFromEnv } from '../common/cli/context.ts';
import { formatError, isFaithsweepError } from '../common/errors.ts';

function cli(...args: string[]) {
  const prompt = args[0] === '--prompt' ? [] : ['--prompt', '0347+1285='];
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'sample', '--model', 'arith-cot', ...prompt, ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `faithsweep sample ARGS` in this process: the command's own parsing, validation and output,
 * with main.ts's error handling (formatError; exit code 2 for BAD_ARGS). Used for the many
 * option cases, where a process per case would only add start-up time; `cli` runs the binary.
 */
async function inProcess(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ctx = { ...contextFromEnv({ ...process.env, NO_COLOR: '' }), out: (l: string) => stdout.push(l), err: (l: string) => stderr.push(l) };
  const prompt = args.includes('--prompt') ? [] : ['--prompt', '0347+1285='];
  let code: number;
  try {
    code = await dispatch(group('faithsweep', '', [sampleCommand]), ['sample', '--model', 'arith-cot', ...prompt, ...args], ctx);
  } catch (err) {
    stderr.push(formatError(err));
    code = isFaithsweepError(err) && err.code === 'BAD_ARGS' ? 2 : 1;
  }
  return { code, stdout: stdout.map((l) => l + '\n').join(''), stderr: stderr.map((l) => l + '\n').join('') };
}

/** The organism's vocabulary, id → character, read from its tokenizer file (the end token drawn as ∎). */
function pieces(): Map<number, string> {
  const vocab = (JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'arith-cot', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  return new Map(Object.entries(vocab).map(([piece, id]) => [id, piece === '<|end|>' ? '∎' : piece]));
}

/** The ANSI escape character (a constant, so that the regular expressions hold no control character). */
const ESC = String.fromCharCode(0x1b);

/** A line of models/arith-cot/golden-modes.jsonl (models/reference/modes.py). */
interface ModeLine {
  prompt: string; gen_length: number; steps: number; block_length: number; temperature: number; seed: number;
  sampler: Record<string, string | number | boolean>; tokens: number[]; commit_step: number[];
}

/** The `sample` flags that set a golden line's sampler: each spec field as --kebab-case. */
function flagsOf(l: ModeLine): string[] {
  const out = ['--prompt', l.prompt, '--seed', String(l.seed), '--gen-length', String(l.gen_length), '--steps', String(l.steps),
    '--block-length', String(l.block_length), '--temperature', String(l.temperature)];
  for (const [k, v] of Object.entries(l.sampler)) {
    const flag = `--${k.replaceAll('_', '-')}`;
    if (v === true) out.push(flag);
    else out.push(flag, String(v));
  }
  return out;
}

interface SampleJson { tokens: number[]; commitStep: number[]; filmStrip: { step: number; guess: number[] }[]; warnings: { code: string; message: string }[] }

describe('faithsweep sample', () => {

  it('rejects --steps 0 and the other lengths at 0 instead of silently using the card default', () => {
    for (const flag of ['--steps', '--gen-length', '--block-length']) {
      const r = cli(flag, '0');
      assert.equal(r.code, 2, flag);
      assert.match(r.stderr, new RegExp(`^error\\[BAD_ARGS\\]: ${flag} must be a positive integer below 2\\^32 \\(got '0'\\)`), flag);
      assert.match(r.stderr, /hint: leave .* out to use the model card's default/);
    }
  });

  it('names an unknown model and lists the models of the folder', () => {
    const r = cli('--model', 'no-such-model');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[MODEL_NOT_FOUND\]: no model 'no-such-model' in the models folder .*models\n {2}hint: the models there: .*\barith-cot\b.*\(another folder: FAITHSWEEP_MODELS\)/);
  });

  it('names a negative seed and says how to pass a value that starts with a dash', () => {
    const spaced = cli('--seed', '-1');
    assert.equal(spaced.code, 2);
    assert.match(spaced.stderr, /^error\[BAD_ARGS\]: option '--seed' is followed by '-1', which starts with '-': write --seed=-1 if it is the value/);
    const joined = cli('--seed=-1');
    assert.equal(joined.code, 2);
    assert.match(joined.stderr, /^error\[BAD_ARGS\]: --seed must be a non-negative integer below 2\^32 \(got '-1'\)/);
  });

  it('runs with steps > gen_length: exactly gen_length tokens, every one committed, the extra steps commit nothing', () => {
    const r = cli('--steps', '100', '--gen-length', '40', '--block-length', '40', '--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { tokens: number[]; commitStep: number[] };
    assert.equal(t.tokens.length, 40);
    assert.equal(t.commitStep.length, 40);
    const steps = new Set(t.commitStep);
    assert.ok(t.commitStep.every((s) => s >= 0 && s < 100), 'every position committed within the 100 steps');
    assert.equal(steps.size, 40, 'one token per step: quota ceil(m / steps left) is 1 while steps left >= masked');
  });

  it('reports correct: null when no gold answer is known', () => {
    const r = cli('--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { correct: unknown; answer: string };
    assert.equal(t.answer, '1632');
    assert.equal(t.correct, null);
  });

  it('shows the film strip with a legend, a ruler, and the model\'s guesses at masked positions marked ? without colour', () => {
    const j = cli('--json');
    assert.equal(j.code, 0, j.stderr);
    const t = JSON.parse(j.stdout) as SampleJson;
    const r = cli('--show-steps');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(`${ESC}[`), 'no escape codes when stdout is not a terminal');
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^legend: one line per step/);
    assert.match(lines[1]!, /\^ below a token: committed at this step; \? below a token: the position is still masked and the token is the model's current guess there/);
    assert.match(lines[2]!, /· masked \(no guess shown\); ∎ end token <\|end\|>/);
    assert.equal(lines[3], '    0    5    10   15   20   25   30   35', 'ruler over the 40 generated positions');
    const vocab = pieces();
    const frames = new Map(t.filmStrip.map((f) => [f.step, f.guess]));
    const steps = Math.max(...t.commitStep) + 1;
    let guessed = 0;
    for (let s = 0; s < steps; s++) {
      const line = lines[4 + 2 * s]!;
      const marks = lines[5 + 2 * s]!.padEnd(4 + 40);
      const m = /^ ?(\d+) {2}(.*) {2}\(\+(\d+)\)$/.exec(line);
      assert.ok(m, `step line: ${line}`);
      assert.equal(Number(m[1]), s);
      const cells = [...m[2]!.padEnd(40)];
      for (let i = 0; i < 40; i++) {
        const c = t.commitStep[i]!;
        const mark = marks[4 + i];
        if (c <= s) {
          assert.equal(cells[i], vocab.get(t.tokens[i]!), `step ${s} position ${i}: the committed token`);
          assert.equal(mark, c === s ? '^' : ' ', `step ${s} position ${i}: new-commit mark`);
        } else {
          assert.equal(cells[i], vocab.get(frames.get(s + 1)![i]!), `step ${s} position ${i}: the guess of the next forward pass`);
          assert.equal(mark, '?', `step ${s} position ${i}: guess mark`);
          guessed++;
        }
      }
      assert.equal(Number(m[3]), t.commitStep.filter((c) => c === s).length);
    }
    assert.ok(guessed > 0);
  });

  it('dims the guesses and inverts new tokens with --color, and prints no marker line', () => {
    const r = cli('--show-steps', '--color');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${ESC}\\[2m\\d${ESC}\\[0m`), 'a dimmed guess');
    assert.match(r.stdout, new RegExp(`${ESC}\\[7m[\\d;>|∎]${ESC}\\[0m`), 'a newly committed token in inverse video');
    assert.match(r.stdout, /dimmed: the model's current guess at a still-masked position/);
    assert.doesNotMatch(r.stdout, /^ +[?^ ]+$/m, 'no marker lines');
  });

  it('warns (coded, not an error) about a prompt that does not follow the card\'s prompt_format, and still answers', () => {
    const r = cli('--prompt', '347+1285=');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning\[PROMPT_FORMAT_MISMATCH\]: prompt "347\+1285=" does not match the model card's prompt_format "\{a:04d\}\+\{b:04d\}=" \(in that format: "0347\+1285="\)$/m);
    assert.match(r.stdout, /^answer {5}\d+$/m);
    const j = cli('--prompt', '347+1285=', '--json');
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stderr, '', 'with --json the warning is in the output only');
    const w = (JSON.parse(j.stdout) as SampleJson).warnings;
    assert.deepEqual(w.map((x) => x.code), ['PROMPT_FORMAT_MISMATCH']);
    assert.match(w[0]!.message, /"0347\+1285="/);
    const ok = cli('--json');
    assert.deepEqual((JSON.parse(ok.stdout) as SampleJson).warnings, [], 'a prompt in the format gets none');
  });

  it('sets every sampler option from flags: golden lines covering every option, token for token and step for step', async () => {
    const lines = readFileSync(join(REPO_ROOT, 'models', 'arith-cot', 'golden-modes.jsonl'), 'utf8').trim().split('\n').map((x) => JSON.parse(x) as ModeLine);
    const picked = new Map<string, ModeLine>();
    for (const l of lines) {
      const key = JSON.stringify(l.sampler);
      if (!picked.has(key) && l.temperature > 0 && l.block_length === 8 && l.steps === 20) picked.set(key, l);
    }
    const flags = new Set([...picked.values()].flatMap((l) => Object.keys(l.sampler)));
    assert.deepEqual([...flags].sort(), ['cfg_scale', 'confidence_threshold', 'end_confidence', 'mode', 'remasking', 'suppress_end', 'threshold_factor', 'tie_break', 'top_p']);
    assert.equal(picked.size, 8, 'one line per sampler configuration of the golden file');
    for (const l of picked.values()) {
      const r = await inProcess(...flagsOf(l), '--json');
      assert.equal(r.code, 0, `${JSON.stringify(l.sampler)}: ${r.stderr}`);
      const t = JSON.parse(r.stdout) as SampleJson;
      assert.deepEqual(t.tokens, l.tokens, `${JSON.stringify(l.sampler)}: tokens`);
      assert.deepEqual(t.commitStep, l.commit_step, `${JSON.stringify(l.sampler)}: commit steps`);
    }
    // Fast-dLLM's threshold commits several positions in one step on this saturated organism.
    const fast = [...picked.values()].find((l) => l.sampler['confidence_threshold'] !== undefined)!;
    assert.ok(new Set(fast.commit_step).size < 40);
  });

  it('refuses bad sampler option values before the model runs, naming the flag and the value', async () => {
    const cases: [string[], RegExp][] = [
      [['--mode', 'mdlm'], /^error\[BAD_ARGS\]: --mode must be one of llada, dream, fast-dllm \(got 'mdlm'\)/],
      [['--remasking', 'margin'], /^error\[BAD_ARGS\]: --remasking must be one of low_confidence, random, entropy, topk_margin, maskgit_plus/],
      [['--confidence-threshold', '1.5'], /^error\[BAD_ARGS\]: --confidence-threshold must be a number in \(0, 1\] \(got '1.5'\)/],
      [['--threshold-factor', '0'], /^error\[BAD_ARGS\]: --threshold-factor must be a number > 0 \(got '0'\)/],
      [['--top-p', 'abc'], /^error\[BAD_ARGS\]: --top-p must be a number in \(0, 1\] \(got 'abc'\)/],
      [['--cfg-scale=-1'], /^error\[BAD_ARGS\]: --cfg-scale must be a number >= 0 \(got '-1'\)/],
      [['--cfg-scale', '-1'], /^error\[BAD_ARGS\]: option '--cfg-scale' is followed by '-1', which starts with '-': write --cfg-scale=-1 if it is the value/],
      [['--end-confidence', 'last'], /^error\[BAD_ARGS\]: --end-confidence must be one of model, lowest \(got 'last'\)/],
      [['--tie-break', 'leftmost'], /^error\[BAD_ARGS\]: --tie-break must be one of float64, model \(got 'leftmost'\)/],
      [['--temperature', 'hot'], /^error\[BAD_ARGS\]: --temperature must be a number >= 0 \(got 'hot'\)/],
      [['--steps', '0'], /^error\[BAD_ARGS\]: --steps must be a positive integer below 2\^32 \(got '0'\)/],
      // Combinations the agent refuses, in the flags' names.
      [['--top-p', '0.9'], /^error\[BAD_ARGS\]: --top-p belongs to mode dream \(mode is llada\)/],
      [['--mode', 'dream', '--remasking', 'maskgit_plus', '--cfg-scale', '1'], /^error\[BAD_ARGS\]: --cfg-scale belongs to mode llada \(mode is dream\)/],
      [['--confidence-threshold', '0.9', '--threshold-factor', '1'], /^error\[BAD_ARGS\]: mode fast-dllm needs exactly one of --confidence-threshold and --threshold-factor/],
      [['--mode', 'dream'], /^error\[BAD_ARGS\]: --remasking must be one of maskgit_plus, topk_margin, entropy in mode dream \(got low_confidence\)/],
    ];
    for (const [args, re] of cases) {
      const r = await inProcess(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing printed on stdout`);
    }
  });

  it('documents every sampler flag in --help', async () => {
    const r = await inProcess('--help');
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['--mode', '--remasking', '--confidence-threshold', '--threshold-factor', '--top-p', '--end-confidence', '--suppress-end', '--cfg-scale', '--tie-break']) {
      assert.match(r.stdout, new RegExp(`^\\s*${f} `, 'm'), f);
    }
  });

  it('takes the sampler flags through the binary too (one process)', () => {
    const r = cli('--mode', 'fast-dllm', '--threshold-factor', '1', '--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as SampleJson & { answer: string; correct: unknown };
    assert.equal(t.answer, '1632');
    assert.equal(t.correct, null);
    assert.ok(new Set(t.commitStep).size < 40, 'the factor rule commits several positions in one step');
  });
});
