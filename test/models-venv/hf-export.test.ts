// models/export/hf_export.py on tiny randomly initialised models built from transformers configs
// (models/export/tiny_mlms.py; no download): BERT- and ALBERT-style masked LMs load through
// AutoModelForMaskedLM, the project's remote-code organism architecture (tinydiff, word-problems
// tokenizer) through AutoModel; each export's logits are vocabulary-wide and match PyTorch fp32
// within tolerance (checked by the exporter with onnxruntime, and again here with the agent's own
// onnxruntime-node); fp16 passes its looser tolerance; a deliberately headless export (BERT
// through bare AutoModel: hidden states) is rejected by the width check with nothing written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnnxEngine } from '../../node-agent/engine/index.ts';
import { silentLogger } from '../../common/log.ts';
import { modelsPythonJson, runModelsPython } from '../helpers/models-python.ts';
import { MODELS_DIR } from '../helpers/models.ts';

const WORDS_VOCAB = (JSON.parse(readFileSync(join(MODELS_DIR, 'word-problems', 'model.json'), 'utf8')) as { vocab_size: number }).vocab_size;

interface Exported { vocab_size: number; dtype: string; auto_class: string; topk: number; parity: { max_abs_diff: number; scale: number; tol: number; argmax_agreement: number; ok: boolean } }

describe('hf_export on tiny random masked LMs', () => {
  let dir: string;
  let src: { bert: string; albert: string; organism: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-hf-export-'));
    src = modelsPythonJson('models.export.tiny_mlms', ['--out', join(dir, 'src')]);
    // What a user fills in by hand after an export (the skeleton has placeholders): answer rule and
    // spans; the encoders have no end token, so [SEP] (id 3) plays it.
    const extra = { answer: { normalize: 'exact' }, spans: { regex: '^(?<cot>[a-z ]*)(?<answer>\\d)', applies_to: 'response' }, prompt_format: '{question}' };
    writeFileSync(join(dir, 'extra.json'), JSON.stringify(extra));
    writeFileSync(join(dir, 'extra-encoder.json'), JSON.stringify({ ...extra, end_token_id: 3 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { name: 'bert', args: ['--card-extra', 'extra-encoder.json'], cls: 'BertForMaskedLM', vocab: 40 },
    { name: 'albert', args: ['--card-extra', 'extra-encoder.json'], cls: 'AlbertForMaskedLM', vocab: 40 },
    // The organism's vocabulary is word-problems' tokenizer's (read from its card: it changes when the organism is retrained).
    { name: 'organism', args: ['--trust-remote-code', '--card-extra', 'extra.json'], cls: 'TinyDiffModel', vocab: WORDS_VOCAB },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: ${c.cls}, logits width = vocabulary size, parity with PyTorch fp32, tokenizer_config and special-token ids in the card`, async (t) => {
      const out = join(dir, c.name);
      const args = c.args.map((a) => (a.endsWith('.json') ? join(dir, a) : a));
      const r = modelsPythonJson<Exported>('models.export.hf_export', ['--model', src[c.name], '--out', out, '--name', `tiny-${c.name}`, ...args]);
      assert.equal(r.auto_class, c.cls);
      assert.equal(r.vocab_size, c.vocab);
      assert.equal(r.topk, 0, 'small vocabularies get no fused top-k by default');
      assert.ok(r.parity.ok && r.parity.max_abs_diff <= 1e-4 * Math.max(1, r.parity.scale), JSON.stringify(r.parity));
      assert.equal(r.parity.argmax_agreement, 1);
      const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as Record<string, unknown> & { special_token_ids: Record<string, number>; mask_token_id: number; tokenizer_config?: string };
      assert.equal(card['tokenizer_config'], 'tokenizer_config.json');
      assert.ok(existsSync(join(out, 'tokenizer_config.json')));
      assert.equal(card.special_token_ids['mask'], card.mask_token_id);
      // The agent loads it (its own width probe against the card) and agrees on V.
      const engine = await createOnnxEngine({ modelsDir: out, intraOpThreads: 1, log: silentLogger });
      assert.equal(engine.loaded.get(`tiny-${c.name}`)!.outputWidth, c.vocab);
      t.diagnostic(`${c.name}: max |onnx - torch fp32| = ${r.parity.max_abs_diff.toExponential(2)} (scale ${r.parity.scale.toFixed(3)})`);
    });
  }

  it('fp16 export passes the looser parity tolerance against PyTorch fp32', () => {
    const r = modelsPythonJson<Exported>('models.export.hf_export', ['--model', src.bert, '--out', join(dir, 'bert-fp16'), '--dtype', 'fp16']);
    assert.equal(r.dtype, 'fp16');
    assert.ok(r.parity.ok && r.parity.tol === 2e-2, JSON.stringify(r.parity));
  });

  it('fused top-k is appended when asked (and by default for V >= 32768)', () => {
    const r = modelsPythonJson<Exported>('models.export.hf_export', ['--model', src.bert, '--out', join(dir, 'bert-topk'), '--topk', '8']);
    assert.equal(r.topk, 8);
    const card = JSON.parse(readFileSync(join(dir, 'bert-topk', 'model.json'), 'utf8')) as { outputs: { name: string }[] };
    assert.deepEqual(card.outputs.map((o) => o.name), ['logits', 'topk_logprobs', 'topk_ids']);
    const auto = modelsPythonJson<Exported>('models.export.hf_export', ['--model', src.bert, '--out', join(dir, 'bert-auto'), '--topk-min-vocab', '40']);
    assert.equal(auto.topk, 40, 'auto: K = min(64, V) once V reaches the threshold');
  });

  it('rejects a headless export (base model without its MLM head) by the width check, writing no card', () => {
    const out = join(dir, 'headless');
    const r = runModelsPython('models.export.hf_export', ['--model', src.bert, '--out', out, '--auto-class', 'AutoModel']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the model's output has 32 entries per position, but config.vocab_size is 40 and the tokenizer has 40 tokens: this is not a masked LM head/);
    assert.ok(!existsSync(join(out, 'model.json')));
  });
});
