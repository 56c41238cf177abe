/** Retention classes (docs/design.md §7 保存期間): what each covers and its default period. Pure data, no I/O. */
import { RETENTION_CLASSES, type RetentionClass } from '@mamoru/contract/enums';

export { RETENTION_CLASSES, type RetentionClass };

export const RETENTION_DEFAULT_DAYS: Readonly<Record<RetentionClass, number | null>> = {
  routine_footage: 30,
  routine_calls: 365,
  incident_evidence: 1095,
  legal_hold: null,
};

export const RETENTION_DESCRIPTION: Readonly<Record<RetentionClass, string>> = {
  routine_footage: 'Camera footage under no active hold: its media is deleted this many days after the segment ends.',
  routine_calls: "Call recordings (originals and playable copies) under no active hold: deleted this many days after the call ended.",
  incident_evidence:
    "Footage and calls linked to a case: an incident hold lapses this many days after the case closed; the media then falls back to the routine period.",
  legal_hold: 'Media under a legal hold is kept until hq releases the hold; it has no period.',
};

export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 36_500;
