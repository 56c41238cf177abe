/**
 * Phone numbers as people read them. The number exactly as the PBX gave it is always shown as it is (evidence);
 * these helpers only add a readable form, and only where the grouping is certain.
 */

/** Japanese national numbers whose grouping does not depend on the (variable-length) area code. */
const JP_GROUPS: [RegExp, string][] = [
  [/^(0800)(\d{3})(\d{4})$/, '$1-$2-$3'], // free dial (before 080: 0800 is not a mobile number)
  [/^(0[789]0)(\d{4})(\d{4})$/, '$1-$2-$3'], // mobile 070/080/090
  [/^(050)(\d{4})(\d{4})$/, '$1-$2-$3'], // IP phone
  [/^(0120)(\d{3})(\d{3})$/, '$1-$2-$3'], // free dial
  [/^(0570)(\d{3})(\d{3})$/, '$1-$2-$3'], // navi dial
  [/^(0[36])(\d{4})(\d{4})$/, '$1-$2-$3'], // Tokyo 03, Osaka 06 (two-digit area codes, eight-digit subscribers)
];

/**
 * A Japanese national number (`0` + 9 or 10 digits) with hyphens where the grouping is unambiguous, e.g.
 * `0312345678` → `03-1234-5678`, `09012345678` → `090-1234-5678`. Any other text comes back unchanged (area codes
 * of other landlines vary from 2 to 5 digits and are not guessed).
 */
export function formatJapaneseNumber(national: string): string {
  for (const [re, out] of JP_GROUPS) if (re.test(national)) return national.replace(re, out);
  return national;
}

/**
 * An E.164 number for reading: `+81312345678` → `+81 3-1234-5678`; other countries `+<digits>` unchanged but for a
 * space after a country code we are sure of (+1, +81 only). Not an E.164 string → unchanged.
 */
export function formatE164(e164: string): string {
  const m = /^\+([1-9]\d{1,14})$/.exec(e164);
  if (!m) return e164;
  const digits = m[1]!;
  if (digits.startsWith('81')) {
    const national = formatJapaneseNumber(`0${digits.slice(2)}`);
    return `+81 ${national.startsWith('0') ? national.slice(1) : national}`;
  }
  if (digits.startsWith('1') && digits.length === 11) return `+1 ${digits.slice(1, 4)}-${digits.slice(4, 7)}-${digits.slice(7)}`;
  return e164;
}

/** What a person may type into the number search: digits and `+ - ( ) .` and spaces, at least 3 digits. */
export type NumberProblem = 'number_chars' | 'number_short';
export function checkNumberQuery(q: string): NumberProblem | null {
  if (!/^[0-9+\-().\s]*$/.test(q)) return 'number_chars';
  if (q.replace(/\D/g, '').length < 3) return 'number_short';
  return null;
}

/**
 * What was typed, made searchable: full-width digits and signs become ASCII (NFKC: `０３－１２３４` → `03-1234`), the
 * dashes a Japanese keyboard offers (`ー`, `−`, `‐`, `–`, `—`) become `-`, and the ends are trimmed.
 */
export function normalizeNumberQuery(q: string): string {
  return q
    .normalize('NFKC')
    .replace(/[\u30fc\u2212\u2010\u2011\u2012\u2013\u2014\u2015\uff70]/g, '-')
    .trim();
}
