import type { ColumnType, Generated } from 'kysely';

/** Columns set by the database on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
/** pg returns int8 as string. */
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
/** tstzrange comes back as a string; write it with sql`tstzrange(...)`. */
type Range = ColumnType<string, string, string>;
/** GENERATED ALWAYS AS IDENTITY bigint. */
type Identity = ColumnType<string, never, never>;

export interface SiteTable {
  id: Generated<string>;
  code: string;
  name: string;
  timezone: string;
  address: string | null;
  camera_notice: unknown | null;
  pbx_notice_text: string | null;
  created_at: Defaulted<Date>;
}

export interface AgentTable {
  id: Generated<string>;
  site_id: string;
  credential_hash: string;
  hostname: string | null;
  version: string | null;
  clock_offset_ms: number | null;
  disk_used_bytes: Int8 | null;
  disk_total_bytes: Int8 | null;
  backlog_count: number | null;
  backlog_bytes: Int8 | null;
  last_contact_at: Date | null;
  revoked_at: Date | null;
  created_at: Defaulted<Date>;
}

export interface EnrollmentTokenTable {
  id: Generated<string>;
  site_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  agent_id: string | null;
  created_by: string;
  created_at: Defaulted<Date>;
}

export interface CameraTable {
  id: Generated<string>;
  site_id: string;
  key: string;
  name: string;
  place: string | null;
  device: Defaulted<unknown>;
  upload_mode: Defaulted<'continuous' | 'on-demand'>;
  health: Defaulted<string>;
  last_segment_at: Date | null;
  created_at: Defaulted<Date>;
}

export interface SegmentTable {
  id: Identity;
  camera_id: string;
  span: Range;
  duration_ms: number;
  byte_size: Int8;
  sha256: Buffer;
  media_type: string;
  codec: Defaulted<unknown>;
  run_id: string | null;
  clock_offset_ms: number | null;
  object_key: string | null;
  retention_class: Defaulted<string>;
  hold_count: Defaulted<number>;
  received_at: Defaulted<Date>;
  stored_at: Date | null;
  /** Set by the retention job when it deleted the media (object_key is then NULL). */
  deleted_at: Date | null;
  deletion_reason: string | null;
}

export type GapReason = 'camera_offline' | 'recorder_restart' | 'evicted' | 'agent_down' | 'other';

export interface GapTable {
  id: Identity;
  camera_id: string;
  span: Range;
  reason: GapReason;
  detail: string | null;
  created_at: Defaulted<Date>;
}

export type CallDirection = 'inbound' | 'outbound' | 'internal' | 'unknown';
export type CallDisposition = 'answered' | 'no_answer' | 'busy' | 'failed' | 'congestion' | 'unknown';
export type NoticePlayed = 'yes' | 'no' | 'unknown';
export type RecordingRole = 'mixed' | 'caller' | 'operator' | 'stereo';
export type DeriveStatus = 'awaiting_original' | 'pending' | 'running' | 'done' | 'failed';
/** GENERATED ALWAYS AS (...) STORED: readable, never written. */
type GeneratedText = ColumnType<string, never, never>;

/** One phone call; the columns hold the facts of its current (highest) version. */
export interface CallTable {
  id: Generated<string>;
  site_id: string;
  call_key: string;
  pbx_id: string;
  linked_id: string;
  adapter: string;
  current_version: number;
  direction: CallDirection;
  disposition: CallDisposition;
  caller_number: string | null;
  caller_name: string | null;
  caller_e164: string | null;
  called_number: string | null;
  called_e164: string | null;
  caller_digits: GeneratedText;
  called_digits: GeneratedText;
  operator_extension: string | null;
  operator_name: string | null;
  operator_source: string | null;
  start_at: Date;
  answer_at: Date | null;
  end_at: Date;
  duration_s: number;
  talk_s: number | null;
  zone: string;
  zone_source: string;
  raw_start: string | null;
  raw_answer: string | null;
  raw_end: string | null;
  notice_played: NoticePlayed;
  notice_method: string | null;
  notice_at: Date | null;
  flags: Defaulted<string[]>;
  retention_class: Defaulted<string>;
  hold_count: Defaulted<number>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

/** Every version an agent sent, verbatim (after validation). */
export interface CallVersionTable {
  id: Identity;
  call_id: string;
  version: number;
  payload: ColumnType<unknown, string, string>;
  payload_sha256: Buffer;
  agent_id: string | null;
  received_at: Defaulted<Date>;
}

/** A PBX record of a call version: the raw line kept as it was read. */
export interface CallLegTable {
  id: Identity;
  call_id: string;
  call_version_id: Int8;
  ordinal: number;
  unique_id: string | null;
  linked_id: string | null;
  sequence: number | null;
  src: string | null;
  dst: string | null;
  channel: string | null;
  dst_channel: string | null;
  last_app: string | null;
  disposition: string | null;
  raw: string;
  source_file: string;
  source_offset: Int8 | null;
}

export interface RecordingTable {
  id: Generated<string>;
  call_id: string;
  name: string;
  role: RecordingRole;
  format: string;
  sample_rate: number | null;
  channels: number | null;
  duration_s: number | null;
  size: Int8;
  sha256: Buffer;
  declared_in_version: number;
  object_key: string | null;
  media_type: string | null;
  stored_at: Date | null;
  playable_key: string | null;
  playable_media_type: string | null;
  playable_codec: string | null;
  playable_size: Int8 | null;
  playable_duration_s: number | null;
  waveform_key: string | null;
  waveform_size: Int8 | null;
  waveform_bucket_ms: number | null;
  derive_status: Defaulted<DeriveStatus>;
  derive_error: string | null;
  derive_attempts: Defaulted<number>;
  derive_job_id: string | null;
  derive_updated_at: Date | null;
  created_at: Defaulted<Date>;
  /** Set by the retention job when it deleted the original and its derivatives (their keys are then NULL). */
  deleted_at: Date | null;
  deletion_reason: string | null;
}

export type Role = 'store_manager' | 'security' | 'hq' | 'auditor' | 'admin';

export interface AppUserTable {
  id: Generated<string>;
  login: string;
  display_name: string;
  password_hash: string;
  role: Role;
  active: Defaulted<boolean>;
  failed_attempts: Defaulted<number>;
  failure_window_started_at: Date | null;
  locked_until: Date | null;
  last_login_at: Date | null;
  password_changed_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface UserSiteTable {
  user_id: string;
  site_id: string;
  created_at: Date;
}

export interface SessionTable {
  id: Generated<string>;
  token_hash: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface LoginThrottleTable {
  scope: 'ip' | 'login';
  key: string;
  failed_attempts: Defaulted<number>;
  failure_window_started_at: Date | null;
  locked_until: Date | null;
  updated_at: Date;
}

export type AuditActorType = 'user' | 'agent' | 'system' | 'anonymous';
export type AuditOutcome = 'success' | 'failure';

export interface AuditEventTable {
  /** Chain position: 1, 2, 3, … without gaps. */
  id: Int8;
  occurred_at: Date;
  actor_type: AuditActorType;
  actor_id: string | null;
  actor_label: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  site_id: string | null;
  ip: string | null;
  user_agent: string | null;
  purpose: string | null;
  request_id: string | null;
  outcome: AuditOutcome;
  details: ColumnType<unknown, string, string>;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditChainHeadTable {
  id: number;
  last_id: Int8;
  last_hash: Buffer;
}

export interface EvidenceHoldTable {
  id: Generated<string>;
  site_id: string;
  incident_id: string | null;
  kind: 'incident' | 'legal';
  camera_id: string | null;
  /** tstzrange; write with sql`tstzrange(...)`. */
  span: ColumnType<string | null, string | null, string | null>;
  call_id: string | null;
  reason: string;
  placed_by: string;
  placed_at: Defaulted<Date>;
  expires_at: Date | null;
  released_at: Date | null;
  released_by: string | null;
  release_reason: string | null;
}

export type AgentCommandKind = 'preserve_window';

export interface AgentCommandTable {
  id: Generated<string>;
  site_id: string;
  kind: AgentCommandKind;
  payload: unknown;
  incident_id: string | null;
  status: Defaulted<'pending' | 'delivered' | 'done' | 'failed'>;
  created_at: Defaulted<Date>;
  delivered_at: Date | null;
  completed_at: Date | null;
  detail: string | null;
}

export type IncidentCategory = 'verbal_abuse' | 'threat' | 'excessive_demand' | 'prolonged_detention' | 'violence' | 'other';
export type IncidentSeverity = 'low' | 'medium' | 'high' | 'critical';
export type IncidentStatus = 'draft' | 'open' | 'under_review' | 'referred_to_police' | 'closed';

export interface IncidentSequenceTable {
  site_id: string;
  year: number;
  last_value: number;
}

export interface IncidentTable {
  id: Generated<string>;
  site_id: string;
  case_number: string;
  title: string;
  category: IncidentCategory;
  severity: IncidentSeverity;
  status: IncidentStatus;
  window_start: Date;
  window_end: Date;
  margin_before_s: number;
  margin_after_s: number;
  narrative: Defaulted<string>;
  involved_staff: ColumnType<unknown, string | undefined, string>;
  reporter_id: string | null;
  created_by: string;
  legal_hold: Defaulted<boolean>;
  legal_hold_reason: string | null;
  legal_hold_by: string | null;
  legal_hold_at: Date | null;
  closed_at: Date | null;
  closed_by: string | null;
  version: Defaulted<number>;
  created_at: Date;
  updated_at: Date;
}

export interface IncidentCallTable {
  incident_id: string;
  call_id: string;
  source: 'filed_from' | 'window' | 'manual';
  linked_by: string;
  linked_at: Date;
}

export interface IncidentCameraWindowTable {
  id: Generated<string>;
  incident_id: string;
  camera_id: string;
  span: Range;
  source: 'filed' | 'manual';
  preserve_command_id: string | null;
  linked_by: string;
  linked_at: Date;
}

export interface IncidentNoteTable {
  id: Generated<string>;
  incident_id: string;
  body: string;
  author_id: string;
  author_label: string | null;
  created_at: Date;
}

export interface IncidentBookmarkTable {
  id: Generated<string>;
  incident_id: string;
  at: Date;
  camera_id: string | null;
  call_id: string | null;
  note: Defaulted<string>;
  created_by: string;
  created_by_label: string | null;
  created_at: Date;
}

export interface IncidentEventTable {
  id: Identity;
  incident_id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  changes: ColumnType<unknown, string, string>;
}

export type RetentionClass = 'routine_footage' | 'routine_calls' | 'incident_evidence' | 'legal_hold';

/** One row per retention class; `retention_days` is NULL only for legal_hold (until released). */
export interface RetentionPolicyTable {
  class: RetentionClass;
  retention_days: number | null;
  updated_at: Defaulted<Date>;
  updated_by: string;
}

export type DisclosureStatus = 'open' | 'building' | 'ready' | 'sent' | 'failed';
export type DisclosureIdentityCheck = 'photo_id_in_person' | 'id_copy_by_mail' | 'callback_to_number' | 'my_number_card_online' | 'other';
export type DisclosureDecision = 'disclose' | 'disclose_masked' | 'withhold';

/** A data subject's disclosure request (開示請求); migration 20261206T120000-disclosure. */
export interface DisclosureRequestTable {
  id: Generated<string>;
  reference: string;
  requester_name: string;
  requester_number: string;
  requester_digits: string;
  received_on: ColumnType<string, string, string>;
  identity_check: DisclosureIdentityCheck;
  identity_note: Defaulted<string>;
  deadline: ColumnType<string, string, string>;
  search_from: Date;
  search_to: Date;
  note: Defaulted<string>;
  status: DisclosureStatus;
  response_job_id: string | null;
  response_object_key: string | null;
  response_sha256: Buffer | null;
  response_size: Int8 | null;
  response_manifest_sha256: Buffer | null;
  response_built_at: Date | null;
  response_error: string | null;
  response_progress: ColumnType<unknown, string | null, string | null>;
  sent_at: Date | null;
  sent_method: string | null;
  sent_by: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

/** One recording or camera window found for a disclosure request, with HQ's decision. */
export interface DisclosureItemTable {
  id: Generated<string>;
  request_id: string;
  kind: 'recording' | 'camera_window';
  site_id: string;
  call_id: string;
  recording_id: string | null;
  camera_id: string | null;
  window_start: Date | null;
  window_end: Date | null;
  decision: DisclosureDecision | null;
  withhold_reason: string | null;
  masking: ColumnType<unknown, string | null, string | null>;
  decided_by: string | null;
  decided_at: Date | null;
  found_at: Date;
}

export interface Database {
  disclosure_request: DisclosureRequestTable;
  disclosure_item: DisclosureItemTable;
  retention_policy: RetentionPolicyTable;
  incident_sequence: IncidentSequenceTable;
  incident: IncidentTable;
  incident_call: IncidentCallTable;
  incident_camera_window: IncidentCameraWindowTable;
  incident_note: IncidentNoteTable;
  incident_bookmark: IncidentBookmarkTable;
  incident_event: IncidentEventTable;
  evidence_hold: EvidenceHoldTable;
  agent_command: AgentCommandTable;
  app_user: AppUserTable;
  user_site: UserSiteTable;
  session: SessionTable;
  login_throttle: LoginThrottleTable;
  audit_event: AuditEventTable;
  audit_chain_head: AuditChainHeadTable;
  site: SiteTable;
  agent: AgentTable;
  enrollment_token: EnrollmentTokenTable;
  camera: CameraTable;
  segment: SegmentTable;
  gap: GapTable;
  call: CallTable;
  call_version: CallVersionTable;
  call_leg: CallLegTable;
  recording: RecordingTable;
}
