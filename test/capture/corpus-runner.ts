/**
 * Child process of corpus.test.ts: reads each capture named on stdin (one path per line)
 * with readCapture, decodes every packet with decode/'s createDecoder when that layer is
 * present, and prints one JSON line per file: `{"start":path}` before, the result after.
 * The parent watches the lines and kills this process if one file takes too long (a hang).
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../src/capture/index.js';
import { isFlowtraceError } from '../../src/errors.js';

type Decode = (linkType: number, data: Uint8Array) => unknown;

const decoderPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/decode/index.ts');
let decode: Decode | null = null;
if (existsSync(decoderPath)) {
  const mod = (await import('../../src/decode/index.js')) as { createDecoder?: () => { decode: Decode } };
  if (typeof mod.createDecoder === 'function') {
    const decoder = mod.createDecoder();
    decode = (linkType, data) => decoder.decode(linkType, data);
  }
}
process.stdout.write(`${JSON.stringify({ decoder: decode !== null })}\n`);

for await (const file of createInterface({ input: process.stdin })) {
  if (file.length === 0) continue;
  process.stdout.write(`${JSON.stringify({ start: file })}\n`);
  let packets = 0;
  let originalBytes = 0;
  let decoded = 0;
  let decodeCrash: string | null = null;
  let truncated = false;
  let linkTypes: number[] = [];
  let result: Record<string, unknown>;
  try {
    const summary = await readCapture(file, {
      onPacket(p) {
        packets++;
        originalBytes += p.originalLength;
        if (decode !== null && decodeCrash === null) {
          try {
            decode(p.linkType, p.data);
            decoded++;
          } catch (err) {
            decodeCrash = `packet ${p.index}: ${(err as Error)?.stack ?? String(err)}`;
          }
        }
      },
    });
    truncated = summary.truncated !== null;
    linkTypes = summary.interfaces.map((i) => i.linkType);
    result = decodeCrash !== null ? { file, status: 'decode-crash', packets, message: decodeCrash } : { file, status: 'read', packets, originalBytes, decoded, truncated, linkTypes };
  } catch (err) {
    if (isFlowtraceError(err) && err.code === 'CAPTURE_FORMAT') result = { file, status: 'format-error', packets, message: err.message };
    else result = { file, status: 'crash', packets, message: (err as Error)?.stack ?? String(err) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
