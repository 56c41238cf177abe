/** Stores, audit and admin pages. */
export type AdminMessages = {};

export const ja: AdminMessages = {};

export const en: AdminMessages = {};
