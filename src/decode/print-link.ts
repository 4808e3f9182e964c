/**
 * Link-level pieces of the tcpdump-style printer: EtherType names (print-ether.c), ARP
 * (print-arp.c, RFC 826) and the -x/-X/-A dumps (print-ascii.c).
 */
import { formatIPv4At, formatMac } from './addr.js';
import { u16 } from './bytes.js';

/** tcpdump's ethertype_values (print-ether.c), the names it prints. */
export const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x86dd: 'IPv6', 0x8100: '802.1Q',
  0x9100: '802.1Q-9100', 0x88a8: '802.1Q-QinQ', 0x9200: '802.1Q-9200', 0x88e5: '802.1AE MACsec', 0x8181: 'VMAN',
  0x0200: 'PUP', 0x0806: 'ARP', 0x8035: 'Reverse ARP', 0x0600: 'NS', 0x0500: 'Sprite', 0x1000: 'Trail',
  0x6001: 'MOP DL', 0x6002: 'MOP RC', 0x6003: 'DN', 0x6004: 'LAT', 0x6007: 'SCA', 0x6558: 'TEB', 0x8038: 'Lanbridge',
  0x803c: 'DEC DNS', 0x803e: 'DEC DTS', 0x805b: 'VEXP', 0x805c: 'VPROD', 0x809b: 'Appletalk', 0x80f3: 'Appletalk ARP',
  0x8137: 'IPX', 0x880b: 'PPP', 0x8808: 'MPCP', 0x8809: 'Slow Protocols', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S',
  0x888e: 'EAPOL', 0x8892: 'RRCP', 0x886f: 'MS NLB heartbeat', 0x88cc: 'LLDP', 0xfefe: 'OSI', 0x9000: 'Loopback',
  0x2000: 'CDP', 0x8902: 'CFM', 0x894f: 'NSH', 0x22f0: 'AVTP', 0x88f7: 'PTP', 0x8906: 'FCoE', 0x8914: 'FIP',
  0x88b5: 'Experimental', 0x88b7: 'OUI Extended', 0x22ea: 'SRP', 0x892f: 'HSR', 0x88fb: 'PRP', 0x8917: 'MRP',
  0x8912: 'Geonet', 0x8947: 'Calm FAST', 0x86df: 'ATM-over-Ethernet', 0x9025: 'PPP over Ethernet',
  0xd28b: 'Arista Vendor Specific Protocol', 0x88c7: 'EAPOL-preauth', 0x0707: 'GeoNet (old)',
};

export function etherTypeText(type: number): string {
  const name = ETHERTYPE_NAMES[type];
  const hex = '0x' + type.toString(16).padStart(4, '0');
  return name ? `ethertype ${name} (${hex})` : `ethertype Unknown (${hex})`;
}

/** print-arp.c, non-verbose, for Ethernet/IPv4 ARP. */
export function arpText(d: Uint8Array, off: number, wireLength: number): string {
  const end = d.length;
  if (end - off < 8) return '[|ARP]';
  const hln = d[off + 4];
  const pln = d[off + 5];
  const op = u16(d, off + 6);
  const sha = off + 8;
  const spa = sha + hln;
  const tha = spa + pln;
  const tpa = tha + hln;
  if (tpa + pln > end) return '[|ARP]';
  const paddr = (o: number): string => (pln === 4 ? formatIPv4At(d, o) : `<wrong proto len ${pln}>`);
  let s: string;
  switch (op) {
    case 1: {
      let nonzero = false;
      for (let i = 0; i < hln; i++) if (d[tha + i]) nonzero = true;
      s = `Request who-has ${paddr(tpa)}${nonzero ? ` (${formatMac(d, tha, hln)})` : ''} tell ${paddr(spa)}`;
      break;
    }
    case 2: s = `Reply ${paddr(spa)} is-at ${formatMac(d, sha, hln)}`; break;
    case 3: s = `Reverse Request who-is ${formatMac(d, tha, hln)} tell ${formatMac(d, sha, hln)}`; break;
    case 4: s = `Reverse Reply ${formatMac(d, tha, hln)} at ${paddr(tpa)}`; break;
    default: s = `Unknown (${op})`;
  }
  return `${s}, length ${wireLength}`;
}

/** tcpdump's hex_print with the "\n\t" prefix (-x). */
export function hexOnly(d: Uint8Array, start: number, end: number): string {
  let out = '';
  let i = 0;
  let offset = 0;
  let p = start;
  const h2 = (c: number): string => (c < 16 ? '0' : '') + c.toString(16);
  for (; p + 1 < end; p += 2) {
    if (i++ % 8 === 0) { out += `\n\t0x${offset.toString(16).padStart(4, '0')}: `; offset += 16; }
    out += ` ${h2(d[p])}${h2(d[p + 1])}`;
  }
  if (p < end) {
    if (i % 8 === 0) out += `\n\t0x${offset.toString(16).padStart(4, '0')}: `;
    out += ` ${h2(d[p])}`;
  }
  return out;
}

/** tcpdump's ascii_print (-A): printable characters, '.' for the rest, line ends kept. */
export function asciiDump(d: Uint8Array, start: number, end: number): string {
  let out = '\n';
  for (let i = start; i < end; i++) {
    const c = d[i];
    if (c === 0x0d) {
      if (i + 1 >= end || d[i + 1] !== 0x0a) out += '.';
    } else if ((c > 0x20 && c < 0x7f) || c === 0x09 || c === 0x20 || c === 0x0a) {
      out += String.fromCharCode(c);
    } else {
      out += '.';
    }
  }
  return out;
}

/** tcpdump's hex_and_ascii_print with the "\n\t" prefix: what it prints for payloads it cannot decode. */
export function hexAndAscii(d: Uint8Array, start: number, end: number): string {
  let out = '';
  let hex = '';
  let ascii = '';
  let offset = 0;
  const graph = (c: number): string => (c > 0x20 && c < 0x7f ? String.fromCharCode(c) : '.');
  const line = (): void => {
    out += `\n\t0x${offset.toString(16).padStart(4, '0')}: ${hex.padEnd(40)}  ${ascii}`;
    hex = '';
    ascii = '';
  };
  let i = start;
  let shorts = 0;
  for (; i + 1 < end; i += 2) {
    hex += ` ${(d[i] < 16 ? '0' : '') + d[i].toString(16)}${(d[i + 1] < 16 ? '0' : '') + d[i + 1].toString(16)}`;
    ascii += graph(d[i]) + graph(d[i + 1]);
    if (++shorts === 8) {
      line();
      shorts = 0;
      offset += 16;
    }
  }
  if (i < end) {
    hex += ` ${(d[i] < 16 ? '0' : '') + d[i].toString(16)}`;
    ascii += graph(d[i]);
    shorts++;
  }
  if (shorts > 0) line();
  return out;
}
