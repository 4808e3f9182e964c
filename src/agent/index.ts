/** agent/: the JSON-lines agent protocol, the agent itself, and the client with its transports. */
export { runAgent, AGENT_KEEPALIVE_MS, type AgentOptions } from './server.js';
export { connectAgent, parseAgentTarget, agentArgv, CONNECT_TIMEOUT_MS, type AgentClient, type AgentTarget, type StartOptions, type ConnectOptions } from './client.js';
export { AGENT_PROTOCOL_VERSION, AGENT_LIMITS, AGENT_CAPABILITIES, INTERFACE_NAME, parseClientLine, filterForPorts } from './protocol.js';
export type { AgentMessage, HelloMessage, StartedMessage, ResultMessage, TraceResult, ErrorMessage, PacketSummary, StartRequest, ClientMessage } from './protocol.js';
export { redactText, redactDeep, maskHeaderValuesInPlace, newRedactor, REDACTED_HEADERS, REDACTED } from './redact.js';
export { analyzeLivePackets, exchangePath, exchangeLines, packetHopComments, createLivePrinter, isoTime, wherePrefix, type LiveAnalysis } from './analysis.js';
export { planSecretMasks, type SecretMaskPlan } from './tcp-secrets.js';
export { SecretHeaderScanner, SECRET_HEADER_NAMES } from './secret-scanner.js';
export { connectServerSide, SERVER_MODES, type ServerMode, type ServerSideSession, type ServerSideStart, type ServerSideStarted, type ServerSideReading, type ServerSideOptions } from './server-side.js';
