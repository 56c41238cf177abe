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

export interface Database {
  site: SiteTable;
  agent: AgentTable;
  enrollment_token: EnrollmentTokenTable;
  camera: CameraTable;
  segment: SegmentTable;
  gap: GapTable;
}
