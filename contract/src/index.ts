/** @mamoru/contract: everything that crosses agent, centre and web. The web imports `@mamoru/contract/enums`. */
export * from './enums.ts';
export * from './agent-api.ts';
export * from './paths.ts';
export * from './errors.ts';
