import type { ColumnType, Generated } from 'kysely';
import type * as E from '@mamoru/contract/enums';

/** The enums the columns hold (their CHECK constraints are in migrations/) are defined once, in @mamoru/contract. */
export type {
  AgentCommandKind,
  AuditActorType,
  AuditOutcome,
  CallDirection,
  CallDisposition,
  DeriveStatus,
  GapReason,
  IncidentCategory,
  IncidentSeverity,
  IncidentStatus,
  NoticePlayed,
  RecordingRole,
  RetentionClass,
  Role,
} from '@mamoru/contract/enums';

/*
 * The tables as TypeScript sees them: every table and column name camelCase. PostgreSQL names are the snake_case
 * forms (`incidentCameraWindow.preserveCommandId` is `incident_camera_window.preserve_command_id`); Kysely's
 * CamelCasePlugin (db/connect.ts) converts between the two. Raw `sql` text uses the PostgreSQL names.
 */

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
  cameraNotice: unknown | null;
  pbxNoticeText: string | null;
  createdAt: Defaulted<Date>;
}

export interface AgentTable {
  id: Generated<string>;
  siteId: string;
  credentialHash: string;
  hostname: string | null;
  version: string | null;
  clockOffsetMs: number | null;
  diskUsedBytes: Int8 | null;
  diskTotalBytes: Int8 | null;
  backlogCount: number | null;
  backlogBytes: Int8 | null;
  lastContactAt: Date | null;
  revokedAt: Date | null;
  revokedBy: Defaulted<string | null>;
  createdAt: Defaulted<Date>;
}

export interface EnrollmentTokenTable {
  id: Generated<string>;
  siteId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  agentId: string | null;
  createdBy: string;
  createdAt: Defaulted<Date>;
  revokedAt: Defaulted<Date | null>;
  revokedBy: Defaulted<string | null>;
}

export interface CameraTable {
  id: Generated<string>;
  siteId: string;
  key: string;
  name: string;
  place: string | null;
  device: Defaulted<unknown>;
  uploadMode: Defaulted<E.UploadMode>;
  health: Defaulted<string>;
  lastSegmentAt: Date | null;
  createdAt: Defaulted<Date>;
}

export interface SegmentTable {
  id: Identity;
  cameraId: string;
  span: Range;
  durationMs: number;
  byteSize: Int8;
  sha256: Buffer;
  mediaType: string;
  codec: Defaulted<unknown>;
  runId: string | null;
  clockOffsetMs: number | null;
  objectKey: string | null;
  retentionClass: Defaulted<string>;
  holdCount: Defaulted<number>;
  receivedAt: Defaulted<Date>;
  storedAt: Date | null;
  /** Set by the retention job when it deleted the media (object_key is then NULL). */
  deletedAt: Date | null;
  deletionReason: string | null;
}

export interface GapTable {
  id: Identity;
  cameraId: string;
  span: Range;
  reason: E.GapReason;
  detail: string | null;
  createdAt: Defaulted<Date>;
}

/** Refused agent input (times out of bounds), counted per agent, subject and code (issue 12 item 2). */
export interface IngestRefusalTable {
  id: Identity;
  agentId: string;
  siteId: string;
  subject: E.RefusalSubject;
  code: string;
  count: Defaulted<Int8>;
  firstAt: Date;
  lastAt: Date;
  lastDetail: ColumnType<unknown, string, string>;
}

/** GENERATED ALWAYS AS (...) STORED: readable, never written. */
type GeneratedText = ColumnType<string, never, never>;

/** One phone call; the columns hold the facts of its current (highest) version. */
export interface CallTable {
  id: Generated<string>;
  siteId: string;
  callKey: string;
  pbxId: string;
  linkedId: string;
  adapter: string;
  currentVersion: number;
  direction: E.CallDirection;
  disposition: E.CallDisposition;
  callerNumber: string | null;
  callerName: string | null;
  callerE164: string | null;
  calledNumber: string | null;
  calledE164: string | null;
  callerDigits: GeneratedText;
  calledDigits: GeneratedText;
  operatorExtension: string | null;
  operatorName: string | null;
  operatorSource: string | null;
  startAt: Date;
  answerAt: Date | null;
  endAt: Date;
  durationS: number;
  talkS: number | null;
  zone: string;
  zoneSource: string;
  rawStart: string | null;
  rawAnswer: string | null;
  rawEnd: string | null;
  noticePlayed: E.NoticePlayed;
  noticeMethod: string | null;
  noticeAt: Date | null;
  flags: Defaulted<string[]>;
  retentionClass: Defaulted<string>;
  holdCount: Defaulted<number>;
  createdAt: Defaulted<Date>;
  updatedAt: Defaulted<Date>;
  /** How direction was decided (DIRECTION_SOURCES). */
  directionSource: Defaulted<string>;
  /** The first operator's pickup (not the PBX's answer) and the talk time from it. */
  pickupAt: Date | null;
  operatorTalkS: number | null;
  /** Every extension the call rang (answered or not), for operator search. */
  operatorExtensions: Defaulted<string[]>;
  /** Live (AMI) state while no sealed version exists; null once one does. */
  liveState: E.LiveCallState | null;
  liveSeq: ColumnType<string | null, number | null, number | null>;
  liveUpdatedAt: Date | null;
}

/** Every version an agent sent, verbatim (after validation). */
export interface CallVersionTable {
  id: Identity;
  callId: string;
  version: number;
  payload: ColumnType<unknown, string, string>;
  payloadSha256: Buffer;
  agentId: string | null;
  receivedAt: Defaulted<Date>;
}

/** A PBX record of a call version: the raw line kept as it was read. */
export interface CallLegTable {
  id: Identity;
  callId: string;
  callVersionId: Int8;
  ordinal: number;
  uniqueId: string | null;
  linkedId: string | null;
  sequence: number | null;
  src: string | null;
  dst: string | null;
  channel: string | null;
  dstChannel: string | null;
  lastApp: string | null;
  disposition: string | null;
  raw: string;
  sourceFile: string;
  sourceOffset: Int8 | null;
}

export interface RecordingTable {
  id: Generated<string>;
  callId: string;
  name: string;
  role: E.RecordingRole;
  format: string;
  sampleRate: number | null;
  channels: number | null;
  durationS: number | null;
  size: Int8;
  sha256: Buffer;
  declaredInVersion: number;
  objectKey: string | null;
  mediaType: string | null;
  storedAt: Date | null;
  playableKey: string | null;
  playableMediaType: string | null;
  playableCodec: string | null;
  playableSize: Int8 | null;
  playableDurationS: number | null;
  waveformKey: string | null;
  waveformSize: Int8 | null;
  waveformBucketMs: number | null;
  deriveStatus: Defaulted<E.DeriveStatus>;
  deriveError: string | null;
  deriveAttempts: Defaulted<number>;
  deriveJobId: string | null;
  deriveUpdatedAt: Date | null;
  createdAt: Defaulted<Date>;
  /** Set by the retention job when it deleted the original and its derivatives (their keys are then NULL). */
  deletedAt: Date | null;
  deletionReason: string | null;
}

export interface AppUserTable {
  id: Generated<string>;
  login: string;
  displayName: string;
  passwordHash: string;
  role: E.Role;
  active: Defaulted<boolean>;
  failedAttempts: Defaulted<number>;
  failureWindowStartedAt: Date | null;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  passwordChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserSiteTable {
  userId: string;
  siteId: string;
  createdAt: Date;
}

export interface SessionTable {
  id: Generated<string>;
  tokenHash: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface LoginThrottleTable {
  scope: 'ip' | 'login';
  key: string;
  failedAttempts: Defaulted<number>;
  failureWindowStartedAt: Date | null;
  lockedUntil: Date | null;
  updatedAt: Date;
}

export interface AuditEventTable {
  /** Chain position: 1, 2, 3, … without gaps. */
  id: Int8;
  occurredAt: Date;
  actorType: E.AuditActorType;
  actorId: string | null;
  actorLabel: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  siteId: string | null;
  ip: string | null;
  userAgent: string | null;
  purpose: string | null;
  requestId: string | null;
  /** The client's own X-Request-Id, when it sent one (never used as the centre's id). */
  clientRequestId: ColumnType<string | null, string | null | undefined, string | null>;
  outcome: E.AuditOutcome;
  details: ColumnType<unknown, string, string>;
  prevHash: Buffer;
  hash: Buffer;
}

export interface AuditChainHeadTable {
  id: number;
  lastId: Int8;
  lastHash: Buffer;
}

export interface EvidenceHoldTable {
  id: Generated<string>;
  siteId: string;
  incidentId: string | null;
  kind: E.HoldKind;
  cameraId: string | null;
  /** tstzrange; write with sql`tstzrange(...)`. */
  span: ColumnType<string | null, string | null, string | null>;
  callId: string | null;
  reason: string;
  placedBy: string;
  placedAt: Defaulted<Date>;
  expiresAt: Date | null;
  releasedAt: Date | null;
  releasedBy: string | null;
  releaseReason: string | null;
  /** When the storage's legal holds last reflected this hold (issue 15); null or older than a change: pending. */
  storageSyncedAt: Date | null;
}

export interface AgentCommandTable {
  id: Generated<string>;
  siteId: string;
  kind: E.AgentCommandKind;
  payload: unknown;
  incidentId: string | null;
  status: Defaulted<E.CommandStatus>;
  createdAt: Defaulted<Date>;
  deliveredAt: Date | null;
  completedAt: Date | null;
  detail: string | null;
}

export interface IncidentSequenceTable {
  siteId: string;
  year: number;
  lastValue: number;
}

export interface IncidentTable {
  id: Generated<string>;
  siteId: string;
  caseNumber: string;
  title: string;
  category: E.IncidentCategory;
  severity: E.IncidentSeverity;
  status: E.IncidentStatus;
  windowStart: Date;
  windowEnd: Date;
  marginBeforeS: number;
  marginAfterS: number;
  narrative: Defaulted<string>;
  involvedStaff: ColumnType<unknown, string | undefined, string>;
  reporterId: string | null;
  createdBy: string;
  legalHold: Defaulted<boolean>;
  legalHoldReason: string | null;
  legalHoldBy: string | null;
  legalHoldAt: Date | null;
  closedAt: Date | null;
  closedBy: string | null;
  version: Defaulted<number>;
  createdAt: Date;
  updatedAt: Date;
}

export interface IncidentCallTable {
  incidentId: string;
  callId: string;
  source: E.CallLinkSource;
  linkedBy: string;
  linkedAt: Date;
}

export interface IncidentCameraWindowTable {
  id: Generated<string>;
  incidentId: string;
  cameraId: string;
  span: Range;
  source: E.WindowLinkSource;
  preserveCommandId: string | null;
  linkedBy: string;
  linkedAt: Date;
}

export interface IncidentNoteTable {
  id: Generated<string>;
  incidentId: string;
  body: string;
  authorId: string;
  authorLabel: string | null;
  createdAt: Date;
}

export interface IncidentBookmarkTable {
  id: Generated<string>;
  incidentId: string;
  at: Date;
  cameraId: string | null;
  callId: string | null;
  note: Defaulted<string>;
  createdBy: string;
  createdByLabel: string | null;
  createdAt: Date;
}

export interface IncidentEventTable {
  id: Identity;
  incidentId: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  changes: ColumnType<unknown, string, string>;
}

/** One row per retention class; `retention_days` is NULL only for legal_hold (until released). */
export interface RetentionPolicyTable {
  class: E.RetentionClass;
  retentionDays: number | null;
  updatedAt: Defaulted<Date>;
  updatedBy: string;
}

export type DisclosureStatus = 'open' | 'building' | 'ready' | 'sent' | 'failed';
export type DisclosureIdentityCheck = 'photo_id_in_person' | 'id_copy_by_mail' | 'callback_to_number' | 'my_number_card_online' | 'other';
export type DisclosureDecision = 'disclose' | 'disclose_masked' | 'withhold';

/** A data subject's disclosure request (開示請求); migration 20261206T120000-disclosure. */
export interface DisclosureRequestTable {
  id: Generated<string>;
  reference: string;
  requesterName: string;
  requesterNumber: string;
  requesterDigits: string;
  receivedOn: ColumnType<string, string, string>;
  identityCheck: DisclosureIdentityCheck;
  identityNote: Defaulted<string>;
  deadline: ColumnType<string, string, string>;
  searchFrom: Date;
  searchTo: Date;
  note: Defaulted<string>;
  status: DisclosureStatus;
  responseJobId: string | null;
  responseObjectKey: string | null;
  responseSha256: Buffer | null;
  responseSize: Int8 | null;
  responseManifestSha256: Buffer | null;
  responseBuiltAt: Date | null;
  responseError: string | null;
  responseProgress: ColumnType<unknown, string | null, string | null>;
  sentAt: Date | null;
  sentMethod: string | null;
  sentBy: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One recording or camera window found for a disclosure request, with HQ's decision. */
export interface DisclosureItemTable {
  id: Generated<string>;
  requestId: string;
  kind: 'recording' | 'camera_window';
  siteId: string;
  callId: string;
  recordingId: string | null;
  cameraId: string | null;
  windowStart: Date | null;
  windowEnd: Date | null;
  decision: DisclosureDecision | null;
  withholdReason: string | null;
  masking: ColumnType<unknown, string | null, string | null>;
  decidedBy: string | null;
  decidedAt: Date | null;
  foundAt: Date;
}

export type PackKindColumn = 'evidence' | 'disclosure';
export type PackPurposeColumn = 'police_request' | 'court' | 'internal_investigation' | 'insurer' | 'data_subject_request';
export type PackStatusColumn = 'queued' | 'building' | 'ready' | 'failed';

/** An evidence pack (or disclosure response) requested by hq; never deleted. */
export interface EvidencePackTable {
  id: Generated<string>;
  siteId: string;
  incidentId: string | null;
  kind: PackKindColumn;
  purpose: PackPurposeColumn;
  reference: string;
  legalBasis: string;
  scope: ColumnType<unknown, string, string>;
  status: Defaulted<PackStatusColumn>;
  jobId: string | null;
  objectKey: string | null;
  size: Int8 | null;
  fileCount: number | null;
  manifestSha256: Buffer | null;
  signature: Buffer | null;
  keyFingerprint: string | null;
  contents: ColumnType<unknown, string, string> | null;
  error: string | null;
  requestedBy: string;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  downloadCount: Defaulted<number>;
}

/** A police share link of a pack: token hashed, expiry, download limit, optional passcode, revocation. */
export interface PackShareLinkTable {
  id: Generated<string>;
  packId: string;
  tokenHash: string;
  recipient: string;
  expiresAt: Date;
  maxDownloads: number;
  downloadCount: Defaulted<number>;
  passcodeHash: string | null;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

export interface Database {
  disclosureRequest: DisclosureRequestTable;
  disclosureItem: DisclosureItemTable;
  evidencePack: EvidencePackTable;
  packShareLink: PackShareLinkTable;
  retentionPolicy: RetentionPolicyTable;
  incidentSequence: IncidentSequenceTable;
  incident: IncidentTable;
  incidentCall: IncidentCallTable;
  incidentCameraWindow: IncidentCameraWindowTable;
  incidentNote: IncidentNoteTable;
  incidentBookmark: IncidentBookmarkTable;
  incidentEvent: IncidentEventTable;
  evidenceHold: EvidenceHoldTable;
  agentCommand: AgentCommandTable;
  appUser: AppUserTable;
  userSite: UserSiteTable;
  session: SessionTable;
  loginThrottle: LoginThrottleTable;
  auditEvent: AuditEventTable;
  auditChainHead: AuditChainHeadTable;
  site: SiteTable;
  agent: AgentTable;
  enrollmentToken: EnrollmentTokenTable;
  camera: CameraTable;
  segment: SegmentTable;
  gap: GapTable;
  ingestRefusal: IngestRefusalTable;
  call: CallTable;
  callVersion: CallVersionTable;
  callLeg: CallLegTable;
  recording: RecordingTable;
}
