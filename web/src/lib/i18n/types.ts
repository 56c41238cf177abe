/** Codes the catalogs label (the ones that cross the seams come from @mamoru/contract). */
import type { GapReason, Role } from '@mamoru/contract/enums';

export type { GapReason };
export type Problem = 'missing' | 'invalid' | 'order' | 'too_long';
export type UserRole = Role;
export type SearchProblemKey = 'number_chars' | 'number_short' | 'date_invalid' | 'date_order' | 'operator_invalid';
