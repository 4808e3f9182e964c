/**
 * journey/: each connection's packets against the path they should take through the host,
 * both ways; the first place the conversation stopped; and why, read from host facts.
 * Pure functions of flow's analysis and host/'s facts (the public surface).
 */
export * from './types.js';
export { connectionJourneys, type JourneyOptions } from './journey.js';
export { explainBreak } from './causes.js';
export { interfaceRoles, reversePath, type RoleMap } from './paths.js';
