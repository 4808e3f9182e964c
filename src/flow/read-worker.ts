/**
 * The reading worker (parallel.ts starts it): reads a capture file, decodes each packet and
 * hands what flow reads of it (packet.ts) to the analysing thread in batches (batch.ts) —
 * reading and decoding on one core while the other analyses. At most MAX_IN_FLIGHT batches
 * wait for the analysis: the reading waits for it beyond that (memory stays bounded).
 *
 * Messages to the analysing thread, in order: `batch` (records, interface blocks, warnings,
 * how far the reading got), then `done` (the read summary) or `error` (what readCapture threw).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCapture, type ReadProgress } from '../capture/index.js';
import { BATCH_BYTES, BatchWriter, newBatchBuffers, serializeError, type BatchBuffers } from './batch.js';
import { FlowPacketReader } from './packet.js';
import type { WorkerWarning } from './parallel.js';

/** Batches handed over and not yet given back, at most (then the reading waits). */
const MAX_IN_FLIGHT = 4;

async function main(): Promise<void> {
  const port = parentPort!;
  const file = (workerData as { file: string }).file;
  const free: BatchBuffers[] = [];
  let inFlight = 0;
  let wake: (() => void) | null = null;
  /** Records (packets and interface blocks) the reading delivered; those before `skipUntil` the analysing thread read itself. */
  let records = 0;
  let skipUntil = 0;
  port.on('message', (m: { type: 'free'; buffers: BatchBuffers } | { type: 'from'; record: number }) => {
    if (m.type === 'from') { skipUntil = m.record; return; }
    free.push(m.buffers);
    inFlight--;
    wake?.();
  });
  const take = (bytes: number): BatchBuffers => {
    const b = free.pop();
    return b !== undefined && b.bytes.byteLength >= bytes ? b : newBatchBuffers(Math.max(bytes, BATCH_BYTES));
  };
  const writer = new BatchWriter(take(BATCH_BYTES));
  const warnings: WorkerWarning[] = [];
  const progress: ReadProgress = { packets: 0, bytes: 0 };
  const send = (): void => {
    if (writer.count === 0 && warnings.length === 0) return;
    const buffers = writer.buffers;
    port.postMessage({
      type: 'batch', buffers, count: writer.count, first: writer.first, interfaces: writer.interfaces, warnings: warnings.splice(0),
      packets: progress.packets, bytes: progress.bytes,
    }, [buffers.records, buffers.bytes]);
    inFlight++;
    writer.reset(take(BATCH_BYTES));
  };
  const reader = new FlowPacketReader(true);
  try {
    const summary = await readCapture(file, {
      onInterface: (iface) => {
        if (records++ < skipUntil) return;
        if (writer.full) send();
        if (writer.count === 0) writer.first = records - 1;
        writer.addInterface(iface);
      },
      onPacket: (record) => {
        // Read already by the analysing thread: not decoded again.
        if (records++ < skipUntil) return;
        const fp = reader.read(record);
        const need = BatchWriter.bytesOf(fp);
        const head = fp.headLayout !== null;
        if (!writer.fits(need, head)) {
          send();
          // A packet bigger than a batch's byte area: a batch of its own, with room for it.
          if (!writer.fits(need, head)) writer.reset(take(need));
        }
        if (writer.count === 0) writer.first = records - 1;
        writer.add(fp);
      },
      onWarning: (message) => warnings.push({ message, at: records }),
    }, {
      progress,
      // After each chunk read: hand the batch over, and wait while the analysis is behind.
      pace: async () => {
        send();
        while (inFlight > MAX_IN_FLIGHT) await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      },
    });
    send();
    port.postMessage({ type: 'done', summary });
  } catch (err) {
    send();
    port.postMessage({ type: 'error', error: serializeError(err) });
  }
}

await main();
