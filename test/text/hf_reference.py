"""Independent reference for test/text: Python `tokenizers` (the Rust crate Hugging Face
ships) and `jinja2` set up as transformers' apply_chat_template sets it up. Not the code
under test: it shares nothing with common/text but the definitions written in its docs.

Reads one JSON request on stdin, writes one JSON answer on stdout.

  {"mode": "tokenize", "tokenizer": "DIR/tokenizer.json", "strings": [...], "decode": [[ids...], ...]}
    -> {"encoded": [{"ids", "ids_special", "text", "spans"}...], "decoded": [{"text", "text_skip", "spans"}...]}
  {"mode": "build", "kind": K, "out": DIR, "corpus": [...]}  -> trains a small tokenizer of family K into DIR
  {"mode": "chat", "config": "DIR/tokenizer_config.json", "cases": [{"messages", "add_generation_prompt"}...]}
    -> {"rendered": [string | {"error": message}...]}

Spans (the definition in common/text/tokenizer.ts, computed here from prefix decodes): with
T = decode(ids), token i's span is [s_i, s_{i+1}) where s_i = the longest common prefix of T
and decode(ids[:j]) over all j <= i, s_n = len(T); lengths are in UTF-16 code units, as
JavaScript strings count them. (For byte-level BPE the common prefix never shrinks as j
grows; byte fallback turns a whole truncated run of <0xNN> tokens into U+FFFD, hiding
characters the run already completed, hence the max over j.) Without U+FFFD in T this is
the byte-based definition used there.
"""
import json
import sys
from datetime import datetime


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def common_prefix(a, b):
    k = 0
    n = min(len(a), len(b))
    while k < n and a[k] == b[k]:
        k += 1
    return k


def spans(tok, ids):
    text = tok.decode(ids, skip_special_tokens=False)
    starts = []
    best = 0
    for i in range(len(ids)):
        prefix = tok.decode(ids[:i], skip_special_tokens=False) if i > 0 else ""
        best = max(best, common_prefix(prefix, text))
        starts.append(utf16_len(text[:best]))
    starts.append(utf16_len(text))
    return text, [[starts[i], starts[i + 1]] for i in range(len(ids))]


def tokenize(req):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(req["tokenizer"])
    encoded = []
    for s in req["strings"]:
        ids = tok.encode(s, add_special_tokens=False).ids
        ids_special = tok.encode(s, add_special_tokens=True).ids
        text, sp = spans(tok, ids)
        encoded.append({"ids": ids, "ids_special": ids_special, "text": text, "spans": sp})
    decoded = []
    for ids in req.get("decode", []):
        text, sp = spans(tok, ids)
        decoded.append({"text": text, "text_skip": tok.decode(ids, skip_special_tokens=True), "spans": sp})
    return {"encoded": encoded, "decoded": decoded}


def chat(req):
    # The environment of transformers' apply_chat_template (utils/chat_template_utils.py):
    # sandboxed, trim_blocks + lstrip_blocks, loop controls, a json.dumps-based tojson,
    # raise_exception and strftime_now; rendered with messages, tools=None, documents=None,
    # add_generation_prompt and the tokenizer's special tokens that are set.
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now

    with open(req["config"], encoding="utf-8") as f:
        config = json.load(f)
    template = env.from_string(config["chat_template"])

    def token_str(v):
        if isinstance(v, dict):
            return v.get("content")
        return v

    specials = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        v = token_str(config.get(key))
        if v is not None:
            specials[key] = v
    extra = [token_str(v) for v in config.get("additional_special_tokens") or []]
    if extra:
        specials["additional_special_tokens"] = extra

    rendered = []
    for case in req["cases"]:
        try:
            rendered.append(template.render(messages=case["messages"], tools=None, documents=None,
                                            add_generation_prompt=case["add_generation_prompt"], **specials))
        except jinja2.exceptions.TemplateError as e:
            rendered.append({"error": str(e)})
    return {"rendered": rendered}


def build(req):
    """Trains a small tokenizer of another family on the corpus with the `tokenizers` trainers
    and writes it (tokenizer.json, and tokenizer_config.json where the family has one) to
    req["out"]: SentencePiece-style BPE with byte fallback (Llama-2's pipeline), Metaspace with
    Unigram, Metaspace BPE with byte fallback ('first' prepend scheme), and BERT WordPiece."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    corpus, out, kind = req["corpus"], req["out"], req["kind"]
    config = None
    byte_fallback = False
    if kind == "sentencepiece-bpe":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=70)
        byte_fallback = True
        config = {"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True, "add_eos_token": False}
    elif kind == "metaspace-unigram":
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    elif kind == "metaspace-bpe-first":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="\u2581", prepend_scheme="first")])
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>", "<|im_end|>"], limit_alphabet=70)
        byte_fallback = True
    elif kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix="##")
        trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"])
    else:
        raise SystemExit(f"unknown kind {kind}")
    tok.train_from_iterator(corpus, trainer=trainer)
    if byte_fallback:
        # SentencePiece models carry the 256 byte pieces <0x00>..<0xFF> in their vocabulary.
        j = json.loads(tok.to_str())
        vocab = j["model"]["vocab"]
        base = max(max(vocab.values()), max(a["id"] for a in j["added_tokens"])) + 1
        for b in range(256):
            vocab.setdefault(f"<0x{b:02X}>", base + b)
        tok = Tokenizer.from_str(json.dumps(j))
    if kind == "sentencepiece-bpe":
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    tok.save(f"{out}/tokenizer.json")
    if config is not None:
        with open(f"{out}/tokenizer_config.json", "w", encoding="utf-8") as f:
            json.dump(config, f)
    return {"vocab_size": tok.get_vocab_size()}


def main():
    req = json.load(sys.stdin)
    out = {"tokenize": tokenize, "chat": chat, "build": build}[req["mode"]](req)
    json.dump(out, sys.stdout, ensure_ascii=True)


main()
