/** Disclosure requests (開示請求): recording a request, deciding per item, the response. */
export type DisclosureMessages = {
  navDisclosures: string;
  discTitle: string;
  discList: string;
  discNone: string;
  discNew: string;
  discRequesterName: string;
  discRequesterNumber: string;
  discReceivedOn: string;
  discIdentityCheck: string;
  discIdentityNote: string;
  discDeadline: string;
  discNote: string;
  discSearchFrom: string;
  discSearchTo: string;
  discRecord: string;
  discReference: string;
  discStatus: string;
  discStatusLabel: Record<string, string>;
  discIdentityLabel: Record<string, string>;
  discItems: string;
  discItemWhat: string;
  discItemCall: string;
  discItemSite: string;
  discRecording: string;
  discCamera: string;
  discRoleLabel: Record<string, string>;
  discDecision: string;
  discDecisionLabel: Record<string, string>;
  discUndecided: string;
  discWithholdReason: string;
  discMuteRanges: string;
  discMuteRangesHint: string;
  discStereoNote: string;
  discRegion: string;
  discRegionHint: string;
  discBlurFaces: string;
  discSave: string;
  discSaved: string;
  discBuild: string;
  discBuilding: string;
  discDownload: string;
  discSentMethod: string;
  discMarkSent: string;
  discSentOn: string;
  discCounts: string;
  discBack: string;
  discProblem: Record<string, string>;
  discBadRanges: string;
  discBadRegion: string;
};

export const ja: DisclosureMessages = {
  navDisclosures: '開示請求',
  discTitle: '開示請求',
  discList: '受付済みの開示請求',
  discNone: '開示請求はまだありません。',
  discNew: '開示請求を受け付ける',
  discRequesterName: '請求者氏名',
  discRequesterNumber: '請求者の電話番号',
  discReceivedOn: '受付日',
  discIdentityCheck: '本人確認の方法',
  discIdentityNote: '本人確認の記録',
  discDeadline: '社内回答期限',
  discNote: 'メモ',
  discSearchFrom: '検索期間の開始日（省略時: 受付の3年前）',
  discSearchTo: '検索期間の終了日（省略時: 現在）',
  discRecord: '受け付けて通話を検索',
  discReference: '受付番号',
  discStatus: '状態',
  discStatusLabel: { open: '判断中', building: '回答作成中', ready: '回答作成済み', sent: '送付済み', failed: '作成失敗' },
  discIdentityLabel: {
    photo_id_in_person: '窓口で写真付き本人確認書類を確認',
    id_copy_by_mail: '本人確認書類の写しを郵送で受領',
    callback_to_number: '登録番号への折り返し電話で確認',
    my_number_card_online: 'マイナンバーカードによるオンライン確認',
    other: 'その他',
  },
  discItems: '該当する記録',
  discItemWhat: '記録',
  discItemCall: '通話',
  discItemSite: '店舗',
  discRecording: '通話録音',
  discCamera: 'カメラ映像',
  discRoleLabel: { mixed: '混合（双方の声）', caller: '請求者側', operator: '応対者側のみ', stereo: 'ステレオ（請求者/応対者）' },
  discDecision: '判断',
  discDecisionLabel: { disclose: '開示', disclose_masked: 'マスキングして開示', withhold: '不開示' },
  discUndecided: '未判断',
  discWithholdReason: '不開示の理由（請求者に通知されます）',
  discMuteRanges: '消音する区間（秒）',
  discMuteRangesHint: '例: 3-7.5, 12-14',
  discStereoNote: '応対者チャンネルは常に消音されます。',
  discRegion: 'ぼかす領域（%）と時間（秒）',
  discRegionHint: '左, 上, 幅, 高さ（%） / 開始-終了（秒）',
  discBlurFaces: '請求者以外の顔を自動でぼかす',
  discSave: '判断を保存',
  discSaved: '保存しました',
  discBuild: '回答パッケージを作成',
  discBuilding: '回答パッケージを作成中…',
  discDownload: '回答パッケージをダウンロード',
  discSentMethod: '送付方法',
  discMarkSent: '送付を記録',
  discSentOn: '送付日時',
  discCounts: '件数',
  discBack: '一覧へ戻る',
  discProblem: {
    invalid_number: '電話番号は6〜20桁の数字で入力してください。',
    invalid_date: '日付が正しくありません。',
    invalid_deadline: '回答期限が受付日より前です。',
    withhold_reason_required: '不開示には理由が必要です。',
    nothing_left_after_masking: 'この録音は応対者の声のみです。不開示にしてください。',
    masking_empty: 'マスキングする区間または領域を指定してください。',
    invalid_masking: 'マスキングの指定が正しくありません。',
    undecided_items: '未判断の記録があります。',
    response_building: '回答パッケージの作成中です。',
    disclosure_sent: '送付済みのため変更できません。',
    forbidden: 'この操作は本部（HQ）のみが行えます。',
  },
  discBadRanges: '区間は「開始-終了」をカンマで区切って入力してください（例: 3-7.5, 12-14）。',
  discBadRegion: '領域は 0〜100% の範囲で、時間は開始より終了を後にしてください。',
};

export const en: DisclosureMessages = {
  navDisclosures: 'Disclosure requests',
  discTitle: 'Disclosure requests',
  discList: 'Requests received',
  discNone: 'No disclosure requests yet.',
  discNew: 'Record a disclosure request',
  discRequesterName: "Requester's name",
  discRequesterNumber: "Requester's phone number",
  discReceivedOn: 'Received on',
  discIdentityCheck: 'Identity check',
  discIdentityNote: 'Identity check record',
  discDeadline: 'Internal deadline',
  discNote: 'Note',
  discSearchFrom: 'Search from (default: 3 years before receipt)',
  discSearchTo: 'Search up to and including (default: now)',
  discRecord: 'Record and find calls',
  discReference: 'Reference',
  discStatus: 'Status',
  discStatusLabel: { open: 'Deciding', building: 'Building response', ready: 'Response ready', sent: 'Sent', failed: 'Build failed' },
  discIdentityLabel: {
    photo_id_in_person: 'Photo ID checked in person',
    id_copy_by_mail: 'Copy of ID received by mail',
    callback_to_number: 'Call-back to the number',
    my_number_card_online: 'Online check with a My Number card',
    other: 'Other',
  },
  discItems: 'Records found',
  discItemWhat: 'Record',
  discItemCall: 'Call',
  discItemSite: 'Store',
  discRecording: 'Call recording',
  discCamera: 'Camera footage',
  discRoleLabel: { mixed: 'Mixed (both voices)', caller: "Requester's side", operator: "Operator's side only", stereo: 'Stereo (requester/operator)' },
  discDecision: 'Decision',
  discDecisionLabel: { disclose: 'Disclose', disclose_masked: 'Disclose masked', withhold: 'Withhold' },
  discUndecided: 'Undecided',
  discWithholdReason: 'Reason for withholding (told to the requester)',
  discMuteRanges: 'Ranges to mute (seconds)',
  discMuteRangesHint: 'e.g. 3-7.5, 12-14',
  discStereoNote: "The operator's channel is always muted.",
  discRegion: 'Region to blur (%) and time (s)',
  discRegionHint: 'left, top, width, height (%) / from-to (s)',
  discBlurFaces: "Blur every face but the requester's automatically",
  discSave: 'Save decision',
  discSaved: 'Saved',
  discBuild: 'Build the response package',
  discBuilding: 'Building the response package…',
  discDownload: 'Download the response package',
  discSentMethod: 'How it was sent',
  discMarkSent: 'Record as sent',
  discSentOn: 'Sent at',
  discCounts: 'Counts',
  discBack: 'Back to the list',
  discProblem: {
    invalid_number: 'Enter the phone number as 6-20 digits.',
    invalid_date: 'The date is not valid.',
    invalid_deadline: 'The deadline is before the request was received.',
    withhold_reason_required: 'Withholding needs a reason.',
    nothing_left_after_masking: "This recording holds only the operator's voice: withhold it.",
    masking_empty: 'Give the ranges or regions to mask.',
    invalid_masking: 'The masking is not valid.',
    undecided_items: 'Some records have no decision yet.',
    response_building: 'The response package is being built.',
    disclosure_sent: 'Already sent: nothing can change.',
    forbidden: 'Only HQ may do this.',
  },
  discBadRanges: 'Write ranges as from-to, separated by commas (e.g. 3-7.5, 12-14).',
  discBadRegion: 'The region must lie within 0-100 % and the time must end after it starts.',
};
