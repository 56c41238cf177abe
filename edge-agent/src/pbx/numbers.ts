/**
 * Telephone numbers. The PBX's string is evidence and is never changed; this only derives an E.164 copy.
 * Japan: national numbers start with the trunk prefix 0 (0X… → +81X…), the international prefix is 010;
 * 184/186 are per-call caller-ID withhold/present prefixes and are not part of the number.
 */

export type NumberPlan = { countryCode: string; trunkPrefix: string; internationalPrefixes: string[]; stripPrefixes: string[] };

export const JAPAN_PLAN: NumberPlan = { countryCode: '81', trunkPrefix: '0', internationalPrefixes: ['010'], stripPrefixes: ['184', '186'] };

/** E.164 (`+81312345678`) for a number as the PBX gave it, or null when it is not a public number (extension,
 * `anonymous`, `非通知`, `<unknown>`, too short/long). */
export function toE164(number: string | null | undefined, plan: NumberPlan = JAPAN_PLAN): string | null {
  if (!number) return null;
  const trimmed = number.trim();
  if (!/^\+?[0-9()\-. ]+$/.test(trimmed)) return null;
  const plus = trimmed.startsWith('+');
  let digits = trimmed.replace(/[^0-9]/g, '');
  if (plus) return valid(digits);
  for (const p of plan.stripPrefixes) {
    if (digits.startsWith(p) && digits.length > p.length + 8 && digits[p.length] === plan.trunkPrefix) {
      digits = digits.slice(p.length);
      break;
    }
  }
  for (const ip of plan.internationalPrefixes) if (digits.startsWith(ip)) return valid(digits.slice(ip.length));
  if (plan.trunkPrefix && digits.startsWith(plan.trunkPrefix) && !digits.startsWith(plan.trunkPrefix + plan.trunkPrefix)) {
    const national = digits.slice(plan.trunkPrefix.length);
    // Japanese national significant numbers are 9 (fixed, 0120) or 10 (mobile, 050, 0800) digits long.
    if (plan.countryCode === '81' && (national.length < 9 || national.length > 10)) return null;
    return valid(plan.countryCode + national);
  }
  return null;
}

function valid(digits: string): string | null {
  if (!/^[1-9][0-9]{7,14}$/.test(digits)) return null;
  return `+${digits}`;
}
