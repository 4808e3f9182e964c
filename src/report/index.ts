/** report/: one follow result → terminal text, HTML page (JSON is the result itself). */
export { renderHtmlReport } from './html.js';
export { renderTerminal, SHORT_TITLES } from './terminal.js';
export type { TerminalOptions } from './terminal.js';
export { renderJourneys, journeyHead, journeySteps } from './journeys.js';
export { renderExplainReading } from './explain.js';
