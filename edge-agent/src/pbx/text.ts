/** Byte decoding for PBX text files: UTF-8 first, Shift_JIS (CP932) as the fallback legacy Japanese trunks produce. */

export type TextEncodingSetting = 'auto' | 'utf-8' | 'shift_jis' | 'cp932';
export type DecodedWith = 'utf-8' | 'shift_jis' | 'utf-8-lossy';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
// WHATWG "shift_jis" is Microsoft's CP932 (NEC and IBM extensions included); Node 20 with full ICU ships it.
// The label "cp932" itself is not registered, "windows-31j" and "ms932" are.
const sjisFatal = new TextDecoder('shift_jis', { fatal: true });
const sjisLossy = new TextDecoder('shift_jis', { fatal: false });

/** Decodes one line (or file) of bytes. `auto` tries UTF-8 strictly, then Shift_JIS strictly, then lossy UTF-8. */
export function decodeBytes(bytes: Uint8Array, setting: TextEncodingSetting = 'auto'): { text: string; encoding: DecodedWith } {
  let b = bytes;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  if (setting === 'shift_jis' || setting === 'cp932') {
    try {
      return { text: sjisFatal.decode(b), encoding: 'shift_jis' };
    } catch {
      return { text: sjisLossy.decode(b), encoding: 'shift_jis' };
    }
  }
  try {
    return { text: utf8Fatal.decode(b), encoding: 'utf-8' };
  } catch {
    if (setting === 'auto') {
      try {
        return { text: sjisFatal.decode(b), encoding: 'shift_jis' };
      } catch {
        /* neither: fall through */
      }
    }
    return { text: utf8Lossy.decode(b), encoding: 'utf-8-lossy' };
  }
}
