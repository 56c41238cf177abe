/** Filing an incident and the incident list. */
export type IncidentMessages = {};

export const ja: IncidentMessages = {};

export const en: IncidentMessages = {};
