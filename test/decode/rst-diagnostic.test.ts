/**
 * The RST diagnostic payload (draft-ietf-tcpm-rst-diagnostic-payload: magic 0x33AA, reason
 * code, PEN) as tcpdump prints it: "[RST: code C, pen P]" at -v; at -vv a cause from the
 * draft's registry (PEN 0) by its name. The packet is the one of tcpdump's corpus test
 * tcp_rst_diag_payload (link type NULL); the variants change only the code and PEN bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder, PacketPrinter } from '../../src/decode/index.js';
import { fromTcpdumpXX } from './packets.js';

// tcpdump -nn -XX -r tcp_rst_diag_payload.pcap (tcpdump 4.99.3, which predates the payload):
const RST_DIAG = fromTcpdumpXX(`
  IP 192.0.2.1.39829 > 192.168.0.1.8080: Flags [R.], seq 1:9, ack 334797553, win 0, length 8
      0x0000:  0200 0000 4500 0030 0000 0000 ff06 391d  ....E..0......9.
      0x0010:  c000 0201 c0a8 0001 9b95 1f90 0000 0001  ................
      0x0020:  13f4 9af1 5014 0000 86a8 0000 33aa 0001  ....P.......3...
      0x0030:  0000 0000                                ....
`);
/** Where the payload starts: 4 (NULL header) + 20 (IPv4) + 20 (TCP). */
const PAYLOAD = 44;

/** The packet with another reason code and PEN. */
function withCause(code: number, pen: number, bytes = RST_DIAG): Uint8Array {
  const d = Uint8Array.from(bytes);
  const v = new DataView(d.buffer);
  v.setUint16(PAYLOAD + 2, code);
  v.setUint32(PAYLOAD + 4, pen);
  return d;
}

/** What flowtrace read prints after "length 8" for this packet at the given -v level (the
 * packet was RST_DIAG.length bytes on the wire, of which `data` was captured). */
function rstText(data: Uint8Array, verbose: number): string {
  const p = createDecoder().decode(LINKTYPE.NULL, data);
  const record = { index: 1, tsSec: 0, tsNsec: 0, capturedLength: data.length, originalLength: RST_DIAG.length };
  const line = new PacketPrinter({ verbose, timestamps: 'none' }).format(record, p);
  const m = / length 8(.*)$/m.exec(line);
  assert.ok(m, `no "length 8" in: ${line}`);
  return m[1];
}

describe('RST diagnostic payload', () => {
  it('is not printed without -v', () => {
    assert.equal(rstText(RST_DIAG, 0), '');
  });

  it('prints code and PEN at -v', () => {
    assert.equal(rstText(RST_DIAG, 1), ' [RST: code 1, pen 0]');
    assert.equal(rstText(withCause(14, 0), 1), ' [RST: code 14, pen 0]');
  });

  it('names a registered cause (PEN 0) at -vv and more', () => {
    assert.equal(rstText(RST_DIAG, 2), ' [RST: Illegal option length]');
    assert.equal(rstText(withCause(14, 0), 2), ' [RST: Connection timeout]');
    assert.equal(rstText(withCause(17, 0), 3), ' [RST: Middlebox interference]');
  });

  it('keeps the numbers at -vv for a vendor code (PEN ≠ 0) or a code the registry lacks', () => {
    // RFC 5612's documentation PEN, 32473; the draft's own example of a vendor code.
    assert.equal(rstText(withCause(1234, 32473), 2), ' [RST: code 1234, pen 32473]');
    assert.equal(rstText(withCause(1, 32473), 2), ' [RST: code 1, pen 32473]');
    assert.equal(rstText(withCause(0, 0), 2), ' [RST: code 0, pen 0]');
    assert.equal(rstText(withCause(999, 0), 2), ' [RST: code 999, pen 0]');
    assert.equal(rstText(withCause(0xffff, 0xffffffff), 2), ' [RST: code 65535, pen 4294967295]');
  });

  it('marks a payload cut by the snapshot length as truncated at every level', () => {
    for (let cut = 2; cut < 8; cut++) {
      const short = RST_DIAG.subarray(0, PAYLOAD + cut);
      assert.equal(rstText(short, 1), ' [RST:  [|tcp]', `cut after ${cut} payload bytes, -v`);
      assert.equal(rstText(short, 2), ' [RST:  [|tcp]', `cut after ${cut} payload bytes, -vv`);
    }
  });
});
