"""Export a Hugging Face masked-diffusion LM (LLaDA- or Dream-style) to the faithsweep ONNX contract.

  models/.venv/bin/python -m models.export.hf_export --model PATH_OR_HUB_ID --out DIR \
      [--trust-remote-code] [--dtype fp32|fp16|bf16] [--fp16] [--external-data auto|always|never] [--opset 17] \
      [--mask-token-id N] [--logits-shifted auto|true|false] [--unshift] [--max-seq-len N] [--name NAME] \
      [--topk auto|K|0] [--topk-min-vocab 32768] [--parity-tol X] [--no-parity] [--card-extra FILE.json]

Contract: input `input_ids` int64[batch, seq] -> output `logits` float32[batch, seq, V] (+ fused
`topk_logprobs` / `topk_ids` [batch, seq, K] for a large V). Which class loads the model:
  - remote code (the config has an `auto_map`: LLaDA, Dream, the project's tinydiff organisms):
    AutoModel, then AutoModelForMaskedLM / AutoModelForCausalLM, as before;
  - a model type transformers knows (BERT, ALBERT, RoBERTa, ModernBERT, ...): AutoModelForMaskedLM,
    then AutoModelForCausalLM. Never bare AutoModel, which for an encoder is the base model without
    its MLM head (hidden states, not logits).
The graph returns only `.logits` cast to float32, traced with the TorchScript exporter
(torch.onnx.export(dynamo=False)) with dynamic axes named batch / seq.

Checks (each a non-zero exit with the reason, before anything is written):
  - width: the logits' last dimension must equal config.vocab_size (when the config has one) and be
    at least the tokenizer's size (tokenizer.json, added tokens included; a model may pad its
    embedding past the tokenizer, as LLaDA does). A headless export (hidden states) fails this.
  - parity (after the export, unless --no-parity): onnxruntime (CPU) on the exported graph against
    the PyTorch model in float32 on random ids (seeded): max |logit difference| <= tol x max(1,
    max |logit|), tol 1e-4 for fp32, 2e-2 for fp16, 1e-1 for bf16 (--parity-tol overrides), and
    greedy (argmax) agreement reported. Written to the card under training.export.parity.

  --dtype           fp32 (default), fp16 or bf16: weights and compute in that type (logits are still
                    cast to float32 in the graph). --fp16 is --dtype fp16. On CPU, torch and
                    onnxruntime must support the type for every op the model uses.
  --auto-class      force one auto class instead of the order above.
  --topk            fused top-k outputs (models/export/add_topk_outputs.py): "auto" (default) adds
                    K = 64 when V >= --topk-min-vocab (32768), so an 8B model's logits never leave
                    the device in full; an integer K forces K; 0 disables.
  --external-data   "auto" (default): weights go to model.onnx.data when the parameters exceed 2 GB
                    (the protobuf limit); "always"/"never" force it. The card's sha256 covers
                    model.onnx only; the data file's sha256 is under training.export.external_data.
  --logits-shifted  Dream (and other AR-initialised models) predict token i+1 at position i. "auto"
                    sets true when config.model_type contains "dream". With --unshift the shift
                    is undone inside the graph (logits[:, i] := logits[:, i-1], position 0 keeps its
                    own) as Dream's own sampler does, and the card says logits_shifted: false.
Writes model.onnx, tokenizer.json and tokenizer_config.json (copied from the source, or saved with
AutoTokenizer; a chat template kept in a separate chat_template.jinja is folded into
tokenizer_config.json's `chat_template`), and a model.json skeleton. End tokens: `eos_token_id` of
generation_config.json (when present) else of config.json; a list becomes `end_token_ids` (sorted)
with its first entry as `end_token_id`. With a chat template the card says prompt.template "chat"
(else prompt_format is a placeholder); answer / spans are placeholders to fill in by hand unless
--card-extra gives them: that JSON object is merged over the skeleton (top-level keys replaced).
`evaluation` is empty. The card also carries `special_token_ids` ({name: id} for every special
token it names, and the tokenizer_config.json's bos/eos/unk/pad/mask/sep/cls tokens).

Limits: the attention_mask input is not exported (full bidirectional attention, no padding);
KV caches are not exported; models whose forward needs extra required
arguments are not supported; a 2 GB+ model needs about 2x its size in RAM while exporting.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

import torch

from models.export.export_tiny import sha256_file

TWO_GB = 2 * 1024**3


class LogitsOnly(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, unshift: bool):
        super().__init__()
        self.model = model
        self.unshift = unshift

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=input_ids)
        logits = out.logits if hasattr(out, "logits") else out[0]
        if self.unshift:
            logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        return logits.float()


def model_classes(path: str, trust_remote_code: bool) -> tuple[str, ...]:
    """The transformers auto classes to try, in order (see the module docstring)."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    if getattr(cfg, "auto_map", None):
        return ("AutoModel", "AutoModelForMaskedLM", "AutoModelForCausalLM")
    return ("AutoModelForMaskedLM", "AutoModelForCausalLM")


def load_model(path: str, trust_remote_code: bool, dtype: torch.dtype, auto_class: str | None = None) -> torch.nn.Module:
    import transformers

    last = None
    classes = (auto_class,) if auto_class else model_classes(path, trust_remote_code)
    for cls in classes:
        try:
            m = getattr(transformers, cls).from_pretrained(path, trust_remote_code=trust_remote_code, dtype=dtype)
            return m.eval()
        except (ValueError, KeyError, OSError) as e:  # no mapping for this auto class
            last = e
    raise SystemExit(f"could not load {path} with {'/'.join(classes)}: {last}")


def tokenizer_size(src: str, trust_remote_code: bool) -> int:
    """Tokens of the source's tokenizer, added tokens included."""
    path = os.path.join(src, "tokenizer.json")
    if os.path.isfile(path):
        from tokenizers import Tokenizer

        return Tokenizer.from_file(path).get_vocab_size(with_added_tokens=True)
    from transformers import AutoTokenizer

    return len(AutoTokenizer.from_pretrained(src, trust_remote_code=trust_remote_code))


def check_width(width: int, cfg, n_tokens: int) -> None:
    """Exits unless the logits are vocabulary-wide: width == config.vocab_size and >= the tokenizer's size."""
    v = getattr(cfg, "vocab_size", None)
    if (v is not None and width != int(v)) or width < n_tokens:
        raise SystemExit(f"the model's output has {width} entries per position, but config.vocab_size is {v} and the "
                         f"tokenizer has {n_tokens} tokens: this is not a masked LM head (a base model without its "
                         "MLM head exports hidden states); load a *ForMaskedLM checkpoint or fix the model")


def source_mask_id(src: str) -> int | None:
    """The id of tokenizer_config.json's mask_token in the source's tokenizer.json, if both exist."""
    try:
        with open(os.path.join(src, "tokenizer_config.json")) as f:
            m = json.load(f).get("mask_token")
        m = m.get("content") if isinstance(m, dict) else m
        if not isinstance(m, str):
            return None
        from tokenizers import Tokenizer

        return Tokenizer.from_file(os.path.join(src, "tokenizer.json")).token_to_id(m)
    except (OSError, ValueError):
        return None


PARITY_TOL = {"fp32": 1e-4, "fp16": 2e-2, "bf16": 1e-1}


def parity(onnx_path: str, ref_model: torch.nn.Module, unshift: bool, n_tokens: int, seq: int, tol: float,
           seed: int = 0) -> dict:
    """onnxruntime (CPU) on the exported graph vs the PyTorch model in float32, on random ids.

    Returns {"max_abs_diff", "scale", "tol", "argmax_agreement", "ok"}; ok when
    max_abs_diff <= tol * max(1, scale) with scale = max |logit| of the reference.
    """
    import numpy as np
    import onnxruntime as ort

    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, n_tokens, (2, seq), generator=g)
    with torch.no_grad():
        ref = LogitsOnly(ref_model, unshift)(ids).float().numpy()
    try:
        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        got = sess.run(["logits"], {"input_ids": ids.numpy().astype(np.int64)})[0]
    except Exception as e:  # onnxruntime raises its own exception types (NotImplemented, Fail, ...)
        raise SystemExit(f"parity check cannot run: onnxruntime (CPU) cannot run the exported graph: {str(e).splitlines()[0]}"
                         " (bf16 has few CPU kernels); the export is left in place, unchecked: rerun with --no-parity"
                         " to write its card, and check it on the target device") from None
    diff = float(np.max(np.abs(got - ref)))
    scale = float(np.max(np.abs(ref)))
    agree = float(np.mean(np.argmax(got, -1) == np.argmax(ref, -1)))
    return {"max_abs_diff": diff, "scale": scale, "tol": tol, "argmax_agreement": agree,
            "ok": bool(diff <= tol * max(1.0, scale))}


def copy_tokenizer(src: str, out: str, trust_remote_code: bool) -> bool:
    """Copy tokenizer.json (+ tokenizer_config.json); return whether a tokenizer_config.json was written."""
    if not os.path.isfile(os.path.join(src, "tokenizer.json")):
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(src, trust_remote_code=trust_remote_code)
        tmp = tempfile.mkdtemp()
        tok.save_pretrained(tmp)
        if not os.path.isfile(os.path.join(tmp, "tokenizer.json")):
            raise SystemExit("the tokenizer has no fast (tokenizer.json) form; convert it first")
        src = tmp
    shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    cfg_path = os.path.join(src, "tokenizer_config.json")
    if not os.path.isfile(cfg_path):
        return False
    with open(cfg_path) as f:
        tc = json.load(f)
    jinja = os.path.join(src, "chat_template.jinja")
    if "chat_template" not in tc and os.path.isfile(jinja):
        with open(jinja) as f:
            tc["chat_template"] = f.read()
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return True


def end_token_ids(src: str, cfg) -> list[int]:
    """eos_token_id of generation_config.json (if the source has one) else of config.json, as a list."""
    eos = None
    gc = os.path.join(src, "generation_config.json") if os.path.isdir(src) else None
    if gc and os.path.isfile(gc):
        with open(gc) as f:
            eos = json.load(f).get("eos_token_id")
    if eos is None:
        eos = getattr(cfg, "eos_token_id", None)
    if eos is None:
        return []
    return [int(e) for e in (eos if isinstance(eos, list) else [eos])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--trust-remote-code", action="store_true")
    ap.add_argument("--fp16", action="store_true", help="same as --dtype fp16")
    ap.add_argument("--dtype", choices=("fp32", "fp16", "bf16"))
    ap.add_argument("--topk", default="auto", help="fused top-k: auto (K=64 when V >= --topk-min-vocab), K, or 0")
    ap.add_argument("--topk-min-vocab", type=int, default=32768)
    ap.add_argument("--parity-tol", type=float)
    ap.add_argument("--no-parity", action="store_true")
    ap.add_argument("--auto-class", help="force one transformers auto class (e.g. AutoModelForMaskedLM); the width check still applies")
    ap.add_argument("--external-data", choices=("auto", "always", "never"), default="auto")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--mask-token-id", type=int)
    ap.add_argument("--logits-shifted", choices=("auto", "true", "false"), default="auto")
    ap.add_argument("--unshift", action="store_true")
    ap.add_argument("--max-seq-len", type=int)
    ap.add_argument("--example-len", type=int, default=16)
    ap.add_argument("--card-extra", help="JSON object merged over the card skeleton (answer, spans, defaults...)")
    args = ap.parse_args()
    import onnx

    from models.export.add_topk_outputs import DEFAULT_K, add_topk_to_file, topk_outputs

    dtype_name = args.dtype or ("fp16" if args.fp16 else "fp32")
    if args.fp16 and args.dtype not in (None, "fp16"):
        raise SystemExit("--fp16 contradicts --dtype " + args.dtype)
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    model = load_model(args.model, args.trust_remote_code, dtype, args.auto_class)
    cfg = model.config
    model_type = str(getattr(cfg, "model_type", "")).lower()
    shifted = {"true": True, "false": False}.get(args.logits_shifted, "dream" in model_type)
    mask_id = args.mask_token_id if args.mask_token_id is not None else getattr(cfg, "mask_token_id", None)
    if mask_id is None:  # encoder MLMs name the mask in tokenizer_config.json ([MASK], <mask>)
        mask_id = source_mask_id(args.model)
    if mask_id is None:
        raise SystemExit("the config has no mask_token_id; pass --mask-token-id")
    max_len = args.max_seq_len or next((getattr(cfg, k) for k in ("max_seq_len", "max_sequence_length",
                                                                 "max_position_embeddings", "n_positions")
                                        if getattr(cfg, k, None)), None)
    wrapper = LogitsOnly(model, unshift=shifted and args.unshift).eval()
    n_tokens = tokenizer_size(args.model, args.trust_remote_code)
    with torch.no_grad():
        width = int(wrapper(torch.full((1, 4), int(mask_id), dtype=torch.long)).shape[-1])
    check_width(width, cfg, n_tokens)
    n_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    external = args.external_data == "always" or (args.external_data == "auto" and n_bytes > TWO_GB)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    tmpdir = tempfile.mkdtemp(dir=args.out)
    tmp_path = os.path.join(tmpdir, "model.onnx")
    example = torch.full((1, args.example_len), int(mask_id), dtype=torch.long)
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, (example,), tmp_path, input_names=["input_ids"], output_names=["logits"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
                              opset_version=args.opset, dynamo=False, do_constant_folding=True)
    except RuntimeError as e:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise SystemExit(f"torch.onnx.export (TorchScript exporter) failed for --dtype {dtype_name}: {str(e).splitlines()[0]}"
                         + ("; bf16 is not supported by this exporter for every model: use --dtype fp16 or fp32" if dtype_name == "bf16" else ""))
    m = onnx.load(tmp_path, load_external_data=True)
    for f in ("model.onnx", "model.onnx.data"):
        if os.path.exists(os.path.join(args.out, f)):
            os.remove(os.path.join(args.out, f))
    if external:
        onnx.save_model(m, onnx_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=1024)
    else:
        onnx.save_model(m, onnx_path)
    shutil.rmtree(tmpdir)
    onnx.checker.check_model(onnx_path)
    vocab = m.graph.output[0].type.tensor_type.shape.dim[2].dim_value or width
    del m
    parity_info = None
    if not args.no_parity:
        ref = model if dtype == torch.float32 else load_model(args.model, args.trust_remote_code, torch.float32, args.auto_class)
        tol = args.parity_tol if args.parity_tol is not None else PARITY_TOL[dtype_name]
        parity_info = parity(onnx_path, ref, shifted and args.unshift, n_tokens,
                             min(args.example_len + 7, int(max_len or 1 << 30)), tol)  # not the traced length
        if not parity_info["ok"]:
            raise SystemExit(f"parity check failed: onnxruntime vs PyTorch fp32 max |diff| {parity_info['max_abs_diff']:.3g} > "
                             f"{tol} x max(1, {parity_info['scale']:.3g}) ({dtype_name}); argmax agreement "
                             f"{parity_info['argmax_agreement']:.3f}. Use --dtype fp32, or --parity-tol to accept it")
    topk_k = DEFAULT_K if args.topk == "auto" and int(vocab) >= args.topk_min_vocab else (0 if args.topk == "auto" else int(args.topk))
    if topk_k > 0:
        topk_k = add_topk_to_file(onnx_path, onnx_path, topk_k)["k"]
    for f in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(args.out, f)):
            os.remove(os.path.join(args.out, f))
    has_tc = copy_tokenizer(args.model, args.out, args.trust_remote_code)
    tc = {}
    if has_tc:
        with open(os.path.join(args.out, "tokenizer_config.json")) as f:
            tc = json.load(f)

    def tok_str(i):
        try:
            with open(os.path.join(args.out, "tokenizer.json")) as f:
                tj = json.load(f)
            for t in tj.get("added_tokens", []):
                if t["id"] == i:
                    return t["content"]
            for k, v in tj.get("model", {}).get("vocab", {}).items():
                if v == i:
                    return k
        except (OSError, ValueError, AttributeError):
            pass
        return None

    def tok_id(s):
        try:
            with open(os.path.join(args.out, "tokenizer.json")) as f:
                tj = json.load(f)
            for t in tj.get("added_tokens", []):
                if t["content"] == s:
                    return t["id"]
            return tj.get("model", {}).get("vocab", {}).get(s)
        except (OSError, ValueError, AttributeError):
            return None

    pad_id = getattr(cfg, "pad_token_id", None)
    end_ids = end_token_ids(args.model, cfg)
    end_id = end_ids[0] if end_ids else None
    special = {"mask": tok_str(int(mask_id)),
               "pad": tok_str(pad_id) if pad_id is not None else None,
               "end": tok_str(end_id) if end_id is not None else None}
    for k in ("bos_token", "eos_token", "unk_token"):  # named tokens of tokenizer_config.json
        v = tc.get(k)
        v = v.get("content") if isinstance(v, dict) else v
        if isinstance(v, str) and tok_id(v) is not None:
            special[k.removesuffix("_token")] = v
    for v in tc.get("additional_special_tokens") or []:
        v = v.get("content") if isinstance(v, dict) else v
        if isinstance(v, str) and v.startswith("<|") and v.endswith("|>"):
            special.setdefault(v[2:-2], v)
    special_ids = {name: tok_id(v) for name, v in special.items() if v is not None and tok_id(v) is not None}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token", "mask_token", "sep_token", "cls_token"):
        v = tc.get(key)
        v = v.get("content") if isinstance(v, dict) else v
        if isinstance(v, str) and tok_id(v) is not None:
            special_ids.setdefault(key.removesuffix("_token"), tok_id(v))
    export_info = {"source": args.model, "fp16": dtype_name == "fp16", "dtype": dtype_name, "opset": args.opset,
                   "model_type": model_type, "auto_class": type(model).__name__, "topk": topk_k,
                   **({"parity": parity_info} if parity_info else {}),
                   "n_params": sum(p.numel() for p in model.parameters()), "torch_version": torch.__version__,
                   "unshifted_in_graph": shifted and args.unshift}
    if external:
        export_info["external_data"] = {"file": "model.onnx.data",
                                        "sha256": sha256_file(os.path.join(args.out, "model.onnx.data"))}
    card = {
        "format": "faithsweep.model-card/v1",
        "name": args.name or os.path.basename(os.path.normpath(args.model)),
        "description": f"exported from {args.model} by models/export/hf_export.py",
        "onnx": "model.onnx",
        "sha256": sha256_file(onnx_path),
        "tokenizer": "tokenizer.json",
        **({"tokenizer_config": "tokenizer_config.json"} if has_tc else {}),
        "vocab_size": int(vocab),
        "mask_token_id": int(mask_id),
        "pad_token_id": pad_id,
        "end_token_id": end_id,
        **({"end_token_ids": sorted(set(end_ids))} if len(end_ids) > 1 else {}),
        "special_tokens": {name: v for name, v in special.items() if v is not None},
        "special_token_ids": special_ids,
        "max_seq_len": max_len,
        "logits_shifted": bool(shifted and not args.unshift),
        "inputs": [{"name": "input_ids", "type": "int64", "shape": ["batch", "seq"]}],
        "outputs": [{"name": "logits", "type": "float32", "shape": ["batch", "seq", int(vocab)]}]
                   + (topk_outputs(topk_k) if topk_k > 0 else []),
        **({"prompt": {"template": "chat"}} if tc.get("chat_template") else
           {"prompt_format": "TODO: how a problem becomes prompt text (e.g. a chat template rendered to text)"}),
        "defaults": {"gen_length": 128, "steps": 128, "block_length": 32, "remasking": "low_confidence",
                     "temperature": 0},
        "spans": {"regex": "TODO: JS regex with named groups cot and answer", "applies_to": "response"},
        "answer": {"normalize": "TODO"},
        "training": {"export": export_info},
        "evaluation": {},
    }
    if args.card_extra:
        with open(args.card_extra) as f:
            extra = json.load(f)
        training = {**card["training"], **extra.pop("training", {})}
        card = {**card, **extra, "training": training}
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(json.dumps({"out": args.out, "external_data": external, "logits_shifted": card["logits_shifted"],
                      "vocab_size": card["vocab_size"], "bytes": os.path.getsize(onnx_path), "dtype": dtype_name,
                      "auto_class": export_info["auto_class"], "topk": topk_k, "parity": parity_info}))


if __name__ == "__main__":
    main()
