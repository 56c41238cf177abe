/**
 * Every enum that crosses agent, centre and web, once. Plain `as const` arrays and their union types, no
 * dependencies: the web imports this module without pulling in zod. The database's CHECK constraints (migrations/)
 * hold the same values; a new value needs a migration too.
 */

/** Why a stretch of a camera has no footage (the agent reports it, the centre stores it in `gap.reason`). */
export const GAP_REASONS = ['camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'disk_full', 'other'] as const;
export type GapReason = (typeof GAP_REASONS)[number];

/** A camera's state as the agent reports it at registration and in heartbeats. */
export const CAMERA_HEALTHS = ['recording', 'offline', 'starting', 'unknown'] as const;
export type CameraHealth = (typeof CAMERA_HEALTHS)[number];

/** `continuous`: every segment is uploaded. `on-demand`: only metadata and the edge hash, media when a case asks. */
export const UPLOAD_MODES = ['continuous', 'on-demand'] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];

/** Calls. */
export const CALL_DIRECTIONS = ['inbound', 'outbound', 'internal', 'unknown'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

export const CALL_DISPOSITIONS = ['answered', 'no_answer', 'busy', 'failed', 'congestion', 'unknown'] as const;
export type CallDisposition = (typeof CALL_DISPOSITIONS)[number];

/** Whether the recording notice was played to the caller. */
export const NOTICE_PLAYED = ['yes', 'no', 'unknown'] as const;
export type NoticePlayed = (typeof NOTICE_PLAYED)[number];

/** How the agent knows whether the notice played. */
export const NOTICE_METHODS = ['cdr_variable', 'userfield', 'cel', 'ami', 'sidecar', 'config'] as const;
export type NoticeMethod = (typeof NOTICE_METHODS)[number];

/** Which side(s) of the conversation a recording file holds. */
export const RECORDING_ROLES = ['mixed', 'caller', 'operator', 'stereo'] as const;
export type RecordingRole = (typeof RECORDING_ROLES)[number];

/** Caveats the agent attaches to a call. */
export const CALL_FLAGS = ['no_recording', 'no_cdr', 'weak_match', 'zone_mismatch', 'truncated_row', 'grouped_by_time'] as const;
export type CallFlag = (typeof CALL_FLAGS)[number];

/** The agent's PBX adapters. */
export const PBX_ADAPTERS = ['asterisk-files', 'drop-folder', 'freepbx'] as const;
export type PbxAdapterName = (typeof PBX_ADAPTERS)[number];

/** Where the answering operator's extension came from. */
export const OPERATOR_SOURCES = ['dstchannel', 'cdr', 'sidecar', 'config', 'cel', 'ami'] as const;
export type OperatorSource = (typeof OPERATOR_SOURCES)[number];

/** How a call's direction was decided (strongest first): the PBX's own label in the recording name, the channels
 * (a trunk on one side, an extension on the other), the dialplan context, a live AMI event, a sidecar, or nothing. */
export const DIRECTION_SOURCES = ['recording_name', 'channels', 'context', 'ami', 'sidecar', 'none'] as const;
export type DirectionSource = (typeof DIRECTION_SOURCES)[number];

/** Call transfers (Asterisk CEL `BLINDTRANSFER` / `ATTENDEDTRANSFER`, AMI `BlindTransfer` / `AttendedTransfer`). */
export const TRANSFER_KINDS = ['blind', 'attended'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

/** Where the lines that decided the notice status came from. */
export const NOTICE_EVIDENCE_SOURCES = ['cdr_custom', 'cdr_csv', 'cel', 'ami', 'sidecar'] as const;
export type NoticeEvidenceSource = (typeof NOTICE_EVIDENCE_SOURCES)[number];

/** A call the agent sees live (AMI) before its records are written: `in_progress` until hangup, then `ended`. Once a
 * sealed version (from the PBX's files) arrives the live state is gone: the files are the record. */
export const LIVE_CALL_STATES = ['in_progress', 'ended'] as const;
export type LiveCallState = (typeof LIVE_CALL_STATES)[number];

/** How the zone of the PBX's naive local times was decided. */
export const ZONE_SOURCES = ['config', 'uniqueid', 'offset_in_data', 'config_contradicted_by_uniqueid'] as const;
export type ZoneSource = (typeof ZONE_SOURCES)[number];

/** The centre's progress on a recording's playable copy and waveform. */
export const DERIVE_STATUSES = ['awaiting_original', 'pending', 'running', 'done', 'failed'] as const;
export type DeriveStatus = (typeof DERIVE_STATUSES)[number];

/** People's roles (docs/security.md). */
export const ROLES = ['store_manager', 'security', 'hq', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Incidents (cases). Labels live with their readers (the centre's API labels, the web's catalogs). */
export const INCIDENT_CATEGORIES = ['verbal_abuse', 'threat', 'excessive_demand', 'prolonged_detention', 'violence', 'other'] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

export const INCIDENT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

export const INCIDENT_STATUSES = ['draft', 'open', 'under_review', 'referred_to_police', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Commands the centre sends an agent (in heartbeat answers) and how the agent answers them. */
export const AGENT_COMMAND_KINDS = ['preserve_window'] as const;
export type AgentCommandKind = (typeof AGENT_COMMAND_KINDS)[number];

export const COMMAND_RESULTS = ['done', 'failed'] as const;
export type CommandResult = (typeof COMMAND_RESULTS)[number];

/** A command's state at the centre. */
export const COMMAND_STATUSES = ['pending', 'delivered', ...COMMAND_RESULTS] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** Retention classes (docs/retention.md). */
export const RETENTION_CLASSES = ['routine_footage', 'routine_calls', 'incident_evidence', 'legal_hold'] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

/** Where a segment's media is: at the centre, only at the store (on-demand), evicted at the store, or deleted. */
export const SEGMENT_STATES = ['stored', 'at_store', 'evicted', 'deleted'] as const;
export type SegmentState = (typeof SEGMENT_STATES)[number];

/** The audit log. */
export const AUDIT_ACTOR_TYPES = ['user', 'agent', 'system', 'anonymous'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Whether a PUT of the agent API stored something new or found it already stored (idempotent retries). */
export const PUT_STATUSES = ['created', 'exists'] as const;
export type PutStatus = (typeof PUT_STATUSES)[number];

/** Evidence holds: one a case places on its footage and calls, and the legal hold hq places and releases. */
export const HOLD_KINDS = ['incident', 'legal'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/** How a call came into a case: the call it was filed from, the filing window, or linked by hand. */
export const CALL_LINK_SOURCES = ['filed_from', 'window', 'manual'] as const;
export type CallLinkSource = (typeof CALL_LINK_SOURCES)[number];

/** How a camera window came into a case. */
export const WINDOW_LINK_SOURCES = ['filed', 'manual'] as const;
export type WindowLinkSource = (typeof WINDOW_LINK_SOURCES)[number];

/** Whether a case's footage has reached the centre. */
export const ARRIVAL_STATES = ['complete', 'awaiting', 'failed'] as const;
export type ArrivalState = (typeof ARRIVAL_STATES)[number];

/** What the centre refused from an agent (counted per agent, subject and code for the stores view). */
export const REFUSAL_SUBJECTS = ['segment', 'segment_meta', 'gap', 'heartbeat', 'call', 'call_live'] as const;
export type RefusalSubject = (typeof REFUSAL_SUBJECTS)[number];
