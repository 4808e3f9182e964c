/**
 * A strict walk over a DNS message (RFC 1035 §4.1; compression §4.1.4; AAAA RFC 3596) that
 * says what is wrong with a malformed one. dns-packet decodes leniently — an A record cut
 * short becomes `1.2.undefined.undefined`, a record count larger than the message is read
 * past its end — so a broken answer looked like "no address" (NODATA). This walk runs
 * first, bounds-checking every length against what is left (`end - offset`).
 *
 * What counts as malformed: the header or a section cut short; a count of records the
 * message does not hold; a name with a reserved label type (0x40, 0x80: a length byte over
 * 63 is one), more than 255 bytes, or a compression pointer that does not point strictly
 * backwards (to itself, forwards: a loop); RDATA that runs past the message, or whose
 * length does not fit its type (A: 4, AAAA: 16; a name-valued record whose name does not
 * end exactly at the end of its RDATA). Bytes after the last record are tolerated.
 */

const HEADER_BYTES = 12;
const QUESTION_FIXED_BYTES = 4;
const RR_FIXED_BYTES = 10;
const MAX_NAME_BYTES = 255;
const POINTER_MASK = 0xc0;

const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41 } as const;
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}

class Malformed extends Error {}

/** Reads a name at `offset`; returns the offset after it (after the first pointer when compressed). */
function skipName(b: Uint8Array, offset: number, end: number, what: string, endWhat = 'the message'): number {
  let p = offset;
  let after = -1;
  let nameBytes = 1; // the root's zero byte
  /** Pointers must go strictly backwards from the lowest place seen: no loop is possible. */
  let lowest = offset;
  for (;;) {
    if (p >= end) throw new Malformed(`${what}: the name runs past the end of ${endWhat} (at byte ${p})`);
    const len = b[p];
    if ((len & POINTER_MASK) === POINTER_MASK) {
      if (p + 2 > end) throw new Malformed(`${what}: a compression pointer is cut short at byte ${p}`);
      const target = ((len & 0x3f) << 8) | b[p + 1];
      if (target === p) throw new Malformed(`${what}: the name is a compression pointer to itself (byte ${p})`);
      if (target >= lowest) throw new Malformed(`${what}: a compression pointer at byte ${p} points forward, to byte ${target} (a loop)`);
      if (after < 0) after = p + 2;
      lowest = target;
      p = target;
      continue;
    }
    // A length of 64–191 sets a type bit: labels are at most 63 bytes (RFC 1035 §2.3.4).
    if ((len & POINTER_MASK) !== 0) throw new Malformed(`${what}: label type 0x${(len & POINTER_MASK).toString(16)} at byte ${p} is reserved (a label is at most 63 bytes)`);
    if (len === 0) return after >= 0 ? after : p + 1;
    if (p + 1 + len > end) throw new Malformed(`${what}: a label of ${len} bytes at byte ${p} runs past the end of ${endWhat} (byte ${end})`);
    nameBytes += 1 + len;
    if (nameBytes > MAX_NAME_BYTES) throw new Malformed(`${what}: the name is longer than ${MAX_NAME_BYTES} bytes`);
    p += 1 + len;
  }
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/** Checks the RDATA of a record whose type has a known layout. */
function checkRdata(b: Uint8Array, type: number, start: number, rdlength: number, what: string): void {
  const end = start + rdlength;
  const nameFills = (from: number, label: string): void => {
    const after = skipName(b, from, end, `${what}, ${label}`, 'its RDATA');
    if (after !== end) throw new Malformed(`${what}: RDLENGTH ${rdlength} does not end where its ${label} does (${after - start} bytes)`);
  };
  switch (type) {
    case TYPE.A: if (rdlength !== 4) throw new Malformed(`${what}: an A record with RDLENGTH ${rdlength} (an IPv4 address is 4 bytes)`); return;
    case TYPE.AAAA: if (rdlength !== 16) throw new Malformed(`${what}: an AAAA record with RDLENGTH ${rdlength} (an IPv6 address is 16 bytes)`); return;
    case TYPE.NS: case TYPE.CNAME: case TYPE.PTR: case TYPE.DNAME: nameFills(start, 'target name'); return;
    case TYPE.MX:
      if (rdlength < 3) throw new Malformed(`${what}: an MX record with RDLENGTH ${rdlength}`);
      nameFills(start + 2, 'exchange name');
      return;
    case TYPE.SRV:
      if (rdlength < 7) throw new Malformed(`${what}: an SRV record with RDLENGTH ${rdlength}`);
      nameFills(start + 6, 'target name');
      return;
    case TYPE.SOA: {
      const afterM = skipName(b, start, end, `${what}, MNAME`, 'its RDATA');
      const afterR = skipName(b, afterM, end, `${what}, RNAME`, 'its RDATA');
      if (end - afterR !== 20) throw new Malformed(`${what}: an SOA record whose five numbers take ${end - afterR} bytes, not 20`);
      return;
    }
    default: return; // other layouts: bounds only (checked by the caller)
  }
}

/**
 * Null when `bytes` is a well-formed DNS message, else what is wrong with it, in words
 * ("answer 1 (x.test A) is cut short: RDATA needs 4 bytes, 2 are left").
 */
export function malformation(bytes: Uint8Array): string | null {
  const end = bytes.length;
  try {
    if (end < HEADER_BYTES) throw new Malformed(`the message is ${end} bytes, shorter than a DNS header (12)`);
    const counts = [u16(bytes, 4), u16(bytes, 6), u16(bytes, 8), u16(bytes, 10)];
    let p = HEADER_BYTES;
    for (let i = 0; i < counts[0]; i++) {
      const what = `question ${i + 1}`;
      if (p >= end) throw new Malformed(`the header says ${counts[0]} question(s), the message ends after ${i}`);
      p = skipName(bytes, p, end, what);
      if (p + QUESTION_FIXED_BYTES > end) throw new Malformed(`${what} is cut short: its type and class need 4 bytes, ${end - p} are left`);
      p += QUESTION_FIXED_BYTES;
    }
    const sections: Array<[string, number]> = [['answer', counts[1]], ['authority', counts[2]], ['additional', counts[3]]];
    for (const [section, count] of sections) {
      for (let i = 0; i < count; i++) {
        if (p >= end) throw new Malformed(`the header says ${count} ${section} record(s), the message ends after ${i}`);
        const nameStart = p;
        p = skipName(bytes, p, end, `${section} ${i + 1}`);
        if (p + RR_FIXED_BYTES > end) throw new Malformed(`${section} ${i + 1} is cut short: its type, class, TTL and RDLENGTH need 10 bytes, ${end - p} are left`);
        const type = u16(bytes, p);
        const rdlength = u16(bytes, p + 8);
        const what = `${section} ${i + 1} (${typeName(type)} at byte ${nameStart})`;
        p += RR_FIXED_BYTES;
        if (p + rdlength > end) throw new Malformed(`${what} is cut short: RDATA needs ${rdlength} bytes, ${end - p} are left`);
        checkRdata(bytes, type, p, rdlength, what);
        p += rdlength;
      }
    }
    return null;
  } catch (err) {
    if (err instanceof Malformed) return err.message;
    throw err;
  }
}
