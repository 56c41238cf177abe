/** Codes the catalogs label. */
export type GapReason = 'camera_offline' | 'recorder_restart' | 'evicted' | 'agent_down' | 'other';
export type Problem = 'missing' | 'invalid' | 'order' | 'too_long';
export type UserRole = 'store_manager' | 'security' | 'hq' | 'auditor' | 'admin';
export type SearchProblemKey = 'number_chars' | 'number_short' | 'date_invalid' | 'date_order' | 'operator_invalid';
