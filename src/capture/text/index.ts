/** capture/text/: tcpdump's printed output read as a capture (capture's surface re-exports what others use). */
export { TcpdumpTextReader, type TextReaderOptions } from './reader.js';
export { isTcpdumpLine, tcpdumpBlockEnd } from './block.js';
