/**
 * The decoder of a Hugging Face `tokenizer.json` (the `decoder` field), re-done so that every
 * character of the decoded text knows which token produced it. Each step follows what the
 * Rust `tokenizers` crate does (the Python `tokenizers` package), component by component:
 *
 * - `ByteLevel`: a token whose characters are all in the GPT-2 byte alphabet gives those bytes,
 *   any other token (e.g. an added token with a space or CJK) its own UTF-8 bytes; all bytes
 *   are then decoded at once, invalid sequences as U+FFFD (maximal subparts).
 * - `ByteFallback`: runs of `<0xNN>` tokens are decoded together; a run that is not valid
 *   UTF-8 becomes one U+FFFD per byte.
 * - `Metaspace`: the replacement character (▁) becomes a space, except in the first token,
 *   where it is dropped when the prepend scheme is not `never`.
 * - `Replace` (string or regex pattern), `Strip` (per token), `Fuse`, `BPEDecoder` (suffix).
 * - no decoder: tokens joined with single spaces.
 *
 * `WordPiece` and `CTC` decoders are not modelled: {@link compileDecoder} returns null and the
 * caller falls back to decoding with `@huggingface/tokenizers` and prefix-based spans.
 */
import type { Owned } from './utf8.ts';
import { UNICODE_TO_BYTE, decodeUtf8Owned, isValidUtf8, utf8Bytes } from './utf8.ts';

/** A decoder step: token strings (with owners) → token strings (with owners). */
type Step = (segs: Owned[]) => Owned[];

/** The decoder part of tokenizer.json. */
export interface DecoderJson {
  readonly type: string;
  readonly [key: string]: unknown;
}

const ownedOf = (text: string, owner: number): Owned => ({ text, own: new Array<number>(text.length).fill(owner) });

/** Concatenates owned strings. */
export function concatOwned(segs: readonly Owned[]): Owned {
  let text = '';
  const own: number[] = [];
  for (const s of segs) {
    text += s.text;
    for (const o of s.own) own.push(o);
  }
  return { text, own };
}

/** Replaces every match of `re` (global) in one owned string; inserted text is owned by the owner of the match's last unit. */
function replaceOwned(seg: Owned, re: RegExp, content: string): Owned {
  let text = '';
  const own: number[] = [];
  let last = 0;
  for (const m of seg.text.matchAll(re)) {
    if (m[0].length === 0) continue;
    const at = m.index;
    text += seg.text.slice(last, at);
    own.push(...seg.own.slice(last, at));
    const owner = seg.own[at + m[0].length - 1]!;
    text += content;
    for (let k = 0; k < content.length; k++) own.push(owner);
    last = at + m[0].length;
  }
  text += seg.text.slice(last);
  own.push(...seg.own.slice(last));
  return { text, own };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Code points of an owned string, each with its first unit's owner. */
function codePoints(seg: Owned): Array<{ ch: string; owner: number }> {
  const out: Array<{ ch: string; owner: number }> = [];
  let k = 0;
  for (const ch of seg.text) {
    out.push({ ch, owner: seg.own[k]! });
    k += ch.length;
  }
  return out;
}

function fromCodePoints(cps: ReadonlyArray<{ ch: string; owner: number }>): Owned {
  const parts = cps.map((c) => ownedOf(c.ch, c.owner));
  return concatOwned(parts);
}

function byteLevel(): Step {
  // Bytes of each distinct token string, computed once (the vocabulary bounds the cache).
  const cache = new Map<string, number[]>();
  const bytesOf = (text: string): number[] => {
    let b = cache.get(text);
    if (b === undefined) {
      const mapped = [...text].map((ch) => UNICODE_TO_BYTE.get(ch));
      b = mapped.every((x) => x !== undefined) ? (mapped as number[]) : utf8Bytes(text);
      cache.set(text, b);
    }
    return b;
  };
  return (segs) => {
    const bytes: number[] = [];
    const own: number[] = [];
    for (const seg of segs) {
      const b = bytesOf(seg.text);
      const single = seg.own.length > 0 && seg.own[0] === seg.own[seg.own.length - 1];
      if (single) {
        // The usual case: one token's string, all of it owned by that token.
        for (const x of b) {
          bytes.push(x);
          own.push(seg.own[0]!);
        }
        continue;
      }
      const cps = codePoints(seg);
      const mapped = cps.map((c) => UNICODE_TO_BYTE.get(c.ch));
      const allMapped = mapped.every((x) => x !== undefined);
      cps.forEach((c, k) => {
        for (const x of allMapped ? [mapped[k]!] : utf8Bytes(c.ch)) {
          bytes.push(x);
          own.push(c.owner);
        }
      });
    }
    return [decodeUtf8Owned(bytes, own)];
  };
}

function byteFallback(): Step {
  const byteOf = (s: string): number | null => (s.length === 6 && /^<0x[0-9A-Fa-f]{2}>$/.test(s) ? parseInt(s.slice(3, 5), 16) : null);
  return (segs) => {
    const out: Owned[] = [];
    let bytes: number[] = [];
    let own: number[] = [];
    const flush = () => {
      if (bytes.length === 0) return;
      if (isValidUtf8(bytes)) out.push(decodeUtf8Owned(bytes, own));
      else for (const o of own) out.push(ownedOf('\uFFFD', o));
      bytes = [];
      own = [];
    };
    for (const seg of segs) {
      const b = byteOf(seg.text);
      if (b !== null) {
        bytes.push(b);
        own.push(seg.own[0]!);
      } else {
        flush();
        out.push(seg);
      }
    }
    flush();
    return out;
  };
}

function metaspace(cfg: DecoderJson): Step {
  const replacement = typeof cfg['replacement'] === 'string' ? cfg['replacement'] : '\u2581';
  const scheme = typeof cfg['prepend_scheme'] === 'string' ? cfg['prepend_scheme'] : cfg['add_prefix_space'] === false ? 'never' : 'always';
  return (segs) =>
    segs.map((seg, i) =>
      fromCodePoints(
        codePoints(seg).flatMap((c) => (c.ch !== replacement ? [c] : i === 0 && scheme !== 'never' ? [] : [{ ch: ' ', owner: c.owner }])),
      ),
    );
}

function replace(cfg: DecoderJson): Step | null {
  const pattern = cfg['pattern'] as { String?: string; Regex?: string } | undefined;
  const content = typeof cfg['content'] === 'string' ? cfg['content'] : '';
  let re: RegExp;
  if (typeof pattern?.String === 'string') re = new RegExp(escapeRegExp(pattern.String), 'gu');
  else if (typeof pattern?.Regex === 'string') {
    try {
      re = new RegExp(pattern.Regex, 'gu');
    } catch {
      return null;
    }
  } else return null;
  return (segs) => segs.map((seg) => replaceOwned(seg, re, content));
}

function strip(cfg: DecoderJson): Step {
  const content = typeof cfg['content'] === 'string' ? cfg['content'] : ' ';
  const start = Number(cfg['start'] ?? 0);
  const stop = Number(cfg['stop'] ?? 0);
  return (segs) =>
    segs.map((seg) => {
      const cps = codePoints(seg);
      let from = 0;
      while (from < start && from < cps.length && cps[from]!.ch === content) from++;
      let to = cps.length;
      while (cps.length - to < stop && to > from && cps[to - 1]!.ch === content) to--;
      return fromCodePoints(cps.slice(from, to));
    });
}

function bpeSuffix(cfg: DecoderJson): Step {
  const suffix = typeof cfg['suffix'] === 'string' ? cfg['suffix'] : '</w>';
  const re = new RegExp(escapeRegExp(suffix), 'gu');
  return (segs) => segs.map((seg, i) => (suffix ? replaceOwned(seg, re, i === segs.length - 1 ? '' : ' ') : seg));
}

/** The steps of a decoder config, or null when some component is not modelled here. */
function steps(cfg: DecoderJson): Step[] | null {
  switch (cfg.type) {
    case 'ByteLevel':
      return [byteLevel()];
    case 'ByteFallback':
      return [byteFallback()];
    case 'Metaspace':
      return [metaspace(cfg)];
    case 'Fuse':
      return [(segs) => [concatOwned(segs)]];
    case 'Strip':
      return [strip(cfg)];
    case 'BPEDecoder':
      return [bpeSuffix(cfg)];
    case 'Replace': {
      const r = replace(cfg);
      return r ? [r] : null;
    }
    case 'Sequence': {
      const all: Step[] = [];
      for (const d of (cfg['decoders'] as DecoderJson[] | undefined) ?? []) {
        const s = steps(d);
        if (!s) return null;
        all.push(...s);
      }
      return all;
    }
    default:
      return null;
  }
}

/**
 * Compiles a tokenizer.json `decoder` into a function from token strings to the decoded
 * text with, per UTF-16 code unit, the index of the token it came from. Returns null when
 * the decoder has a component not modelled here (WordPiece, CTC, an unusual regex).
 */
export function compileDecoder(cfg: DecoderJson | null | undefined): ((tokens: readonly string[]) => Owned) | null {
  if (!cfg) {
    // No decoder: the tokens joined with spaces; a separator belongs to the token after it.
    return (tokens) => concatOwned(tokens.map((t, i) => ownedOf(i === 0 ? t : ` ${t}`, i)));
  }
  const chain = steps(cfg);
  if (!chain) return null;
  return (tokens) => concatOwned(chain.reduce((segs, step) => step(segs), tokens.map((t, i) => ownedOf(t, i))));
}
