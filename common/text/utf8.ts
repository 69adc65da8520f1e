/**
 * UTF-8 decoding that remembers, for every UTF-16 code unit of the result, which token
 * supplied the bytes it came from, and the GPT-2 byte ↔ unicode table of byte-level BPE.
 * Invalid or truncated sequences become U+FFFD by the "maximal subpart" rule that both the
 * WHATWG decoder and Rust's `String::from_utf8_lossy` (used by Hugging Face tokenizers) follow.
 */

/** Text whose every UTF-16 code unit carries the index of the token that produced it. */
export interface Owned {
  text: string;
  /** own[k] = token index of text code unit k (same length as text). */
  own: number[];
}

const REPLACEMENT = '\uFFFD';

/**
 * Decodes `bytes` (each owned by `own[i]`) as UTF-8 with replacement. A decoded character
 * (or a U+FFFD standing for an invalid subpart) is owned by the owner of its last byte, so
 * a token whose bytes end mid-character owns nothing of that character.
 */
export function decodeUtf8Owned(bytes: readonly number[], own: readonly number[]): Owned {
  let text = '';
  const out: number[] = [];
  const push = (s: string, owner: number) => {
    text += s;
    for (let k = 0; k < s.length; k++) out.push(owner);
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      push(String.fromCharCode(b), own[i]!);
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else {
      push(REPLACEMENT, own[i]!);
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++) {
      const c = bytes[j];
      if (c === undefined || c < lower || c > upper) {
        ok = false;
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (c & 0x3f);
      j++;
    }
    // On failure the maximal subpart bytes[i, j) becomes one U+FFFD and bytes[j] is read again.
    push(ok ? String.fromCodePoint(cp) : REPLACEMENT, own[j - 1]!);
    i = j;
  }
  return { text, own: out };
}

/** True when `bytes` are valid UTF-8 (no replacement needed). */
export function isValidUtf8(bytes: readonly number[]): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    return true;
  } catch {
    return false;
  }
}

/** UTF-8 bytes of one string. */
export function utf8Bytes(s: string): number[] {
  return [...new TextEncoder().encode(s)];
}

/**
 * GPT-2's byte-level alphabet: bytes that are printable Latin-1 stand for themselves, the
 * others (controls, space, 0x7F–0xA0, soft hyphen) are shifted to U+0100 onward in byte order.
 * Returns character → byte.
 */
function buildUnicodeToByte(): Map<string, number> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) map.set(String.fromCharCode(b), b);
    else map.set(String.fromCharCode(256 + shifted++), b);
  }
  return map;
}

/** Byte-level BPE character → byte. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = buildUnicodeToByte();
