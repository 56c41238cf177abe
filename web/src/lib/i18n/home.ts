/** The home page per role. */
export type HomeMessages = {};

export const ja: HomeMessages = {};

export const en: HomeMessages = {};
