/** The case page (synchronized player, timeline, bookmarks). */
export type CaseMessages = {};

export const ja: CaseMessages = {};

export const en: CaseMessages = {};
