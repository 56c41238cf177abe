/** Reported in heartbeats and at enrollment. */
export const AGENT_VERSION = '0.1.0';
