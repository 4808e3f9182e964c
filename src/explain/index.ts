/**
 * explain/: the verdict from text users already ran — nslookup, dig, host, traceroute,
 * tracepath, mtr, curl -v/-w, tcpdump, ip, iptables, ss, sysctl, docker ps — read into follow's
 * evidence and judged by follow's own verdict. The public surface.
 */
export { explain, type ExplainInput, type ExplainOptions } from './explain.js';
export { segment, parseCommand, type Format, type RawPart, type Command, type Segmented } from './segment.js';
