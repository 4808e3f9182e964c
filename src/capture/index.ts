/**
 * capture/: reading pcap and pcapng from files and pipes, writing pcapng, interface maps.
 * The public surface of the layer; everything else in this folder is internal.
 */
export * from './types.js';
export { CaptureParser } from './parser.js';
export { readCapture, READ_CHUNK_BYTES, YIELD_AFTER_MS, type ReadOptions, type ReadProgress } from './read.js';
export { MAX_RECORD_BYTES, MAX_DESCRIBED_INTERFACES } from './context.js';
export { PcapngWriter, writePcapng, type PcapngWriterOptions, type PcapngInterface, type PcapngPacket } from './writer.js';
export { parseIfmap, readIfmapText, formatIfmap, readIfmapOfThisNamespace, type IfmapReading } from './ifmap.js';
export * from './live/index.js';
export { isTcpdumpLine, tcpdumpBlockEnd } from './text/index.js';
export { filterCapture, filteredCaptureStream, type FilteredCapture } from './filter.js';
