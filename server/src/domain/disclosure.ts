/**
 * Disclosure requests (個人情報保護法 開示請求): the fixed lists, the masking a decision may carry, and the pure checks.
 * Times of a masking are seconds from the start of the item (a recording's first sample, a camera window's start);
 * rectangles are fractions of the frame (0..1, origin top left).
 */
import { z } from 'zod';
import type { DisclosureDecision, DisclosureIdentityCheck, DisclosureStatus } from '../db/schema.ts';

export const DISCLOSURE_STATUSES = ['open', 'building', 'ready', 'sent', 'failed'] as const satisfies readonly DisclosureStatus[];
export const DISCLOSURE_DECISIONS = ['disclose', 'disclose_masked', 'withhold'] as const satisfies readonly DisclosureDecision[];
export const IDENTITY_CHECKS = ['photo_id_in_person', 'id_copy_by_mail', 'callback_to_number', 'my_number_card_online', 'other'] as const satisfies readonly DisclosureIdentityCheck[];
export type { DisclosureDecision, DisclosureIdentityCheck, DisclosureStatus };

export const IDENTITY_CHECK_LABELS: Record<DisclosureIdentityCheck, { ja: string; en: string }> = {
  photo_id_in_person: { ja: '窓口で写真付き本人確認書類を確認', en: 'Photo ID checked in person' },
  id_copy_by_mail: { ja: '本人確認書類の写しを郵送で受領', en: 'Copy of ID received by mail' },
  callback_to_number: { ja: '登録番号への折り返し電話で確認', en: 'Call-back to the number' },
  my_number_card_online: { ja: 'マイナンバーカードによるオンライン確認', en: 'Online check with a My Number card' },
  other: { ja: 'その他', en: 'Other' },
};

export const DECISION_LABELS: Record<DisclosureDecision, { ja: string; en: string }> = {
  disclose: { ja: '開示', en: 'Disclose' },
  disclose_masked: { ja: 'マスキングして開示', en: 'Disclose masked' },
  withhold: { ja: '不開示', en: 'Withhold' },
};

const seconds = z.number().min(0).max(7 * 86_400);
const fraction = z.number().min(0).max(1);
export const TimeRangeSchema = z.strictObject({ fromS: seconds, toS: seconds }).refine((r) => r.toS > r.fromS, { message: 'toS must be after fromS' });
export const RegionSchema = z
  .strictObject({ x: fraction, y: fraction, w: fraction.gt(0), h: fraction.gt(0), fromS: seconds, toS: seconds })
  .refine((r) => r.toS > r.fromS, { message: 'toS must be after fromS' })
  .refine((r) => r.x + r.w <= 1.000001 && r.y + r.h <= 1.000001, { message: 'the rectangle must lie inside the frame' });

/** A recording's masking: ranges muted on every channel. A stereo recording's operator channel is always muted. */
export const RecordingMaskingSchema = z.strictObject({ muteRanges: z.array(TimeRangeSchema).max(200) });
/**
 * A camera window's masking: regions blurred over times, and optionally every detected face but the requester's. The
 * masked copy has no audio (camera audio carries other people's voices).
 */
export const CameraMaskingSchema = z.strictObject({
  regions: z.array(RegionSchema).max(200),
  style: z.enum(['blur', 'fill']).default('blur'),
  blurFaces: z.boolean().default(false),
  /** Where the requester is (their face stays visible); only with blurFaces. */
  keepFaces: z.array(RegionSchema).max(200).default([]),
});
export type RecordingMasking = z.infer<typeof RecordingMaskingSchema>;
export type CameraMasking = z.infer<typeof CameraMaskingSchema>;
export type ItemMasking = RecordingMasking | CameraMasking;

/** Digits of a phone number as a person types it ('050-1234-5678', '+81 50 1234 5678'); null when it is not one. */
export function numberDigits(raw: string): string | null {
  if (!/^[0-9+\-().\s]+$/.test(raw)) return null;
  const d = raw.replace(/\D/g, '');
  return d.length >= 6 && d.length <= 20 ? d : null;
}

/** The other written forms of the same Japanese number: national `0…` and international `81…` (no `+`). */
export function numberForms(digits: string): string[] {
  const forms = new Set([digits]);
  if (digits.startsWith('0') && !digits.startsWith('00')) forms.add(`81${digits.slice(1)}`);
  if (digits.startsWith('81')) forms.add(`0${digits.slice(2)}`);
  return [...forms];
}

/** Statuses in which decisions may still change (a built response is rebuilt after a change; a sent one is final). */
export const DECIDABLE: readonly DisclosureStatus[] = ['open', 'ready', 'failed'];
