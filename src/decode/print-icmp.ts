/**
 * ICMP pieces of the tcpdump-style printer (print-icmp.c, print-icmp6.c): ICMPv6 type names,
 * RFC 8335 extended echo objects (RFC 5837 interface role), neighbor-discovery option names.
 */
import { formatIPv4At, formatIPv6 } from './addr.js';
import { u16, u32 } from './bytes.js';
import { escapeChar } from './print-text.js';
import { checksumShouldBe, hex4, onesComplementSum } from './print-verbose.js';

export const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem', 128: 'echo request',
  129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report', 132: 'multicast listener done',
  133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement',
  137: 'redirect', 138: 'router renumbering', 139: 'node information query', 140: 'node information reply',
  141: 'inverse neighbor solicitation', 142: 'inverse neighbor advertisement', 143: 'multicast listener report v2',
  144: 'ha discovery request', 145: 'ha discovery reply', 146: 'mobile router solicitation',
  147: 'mobile router advertisement', 151: 'multicast router advertisement', 152: 'multicast router solicitation',
  153: 'multicast router termination', 155: 'RPL', 160: 'extended echo request', 161: 'extended echo reply',
};

export const EXT_ECHO_CODES = ['No error', 'Malformed Query', 'No Such Interface', 'No Such Table Entry', 'Multiple Interfaces Satisfy Query'];

export const EXT_ECHO_STATES = ['Reserved', 'Incomplete', 'Reachable', 'Stale', 'Delay', 'Probe', 'Failed'];

/**
 * print-icmp.c / print-icmp6.c -v for RFC 8335 extended echo (ICMP 42/43, ICMPv6 160/161):
 * the request's Interface Identification Object, the reply's state.
 */
export function extendedEchoText(d: Uint8Array, off: number, length: number, end: number): string {
  if (off + 8 > end) return '';
  const type = d[off];
  if (type === 43 || type === 161) {
    const code = d[off + 1];
    const b = d[off + 7];
    return `\n\tCode ${code} (${EXT_ECHO_CODES[code] ?? 'Unknown'}), State ${b >> 5} (${EXT_ECHO_STATES[b >> 5] ?? 'Unknown'}), active ${(b >> 2) & 1} ipv4 ${(b >> 1) & 1} ipv6 ${b & 1}`;
  }
  const ext = off + 8;
  if (ext + 8 > end || length < 16) return '';
  const objLength = u16(d, ext + 4);
  const objClass = d[ext + 6];
  const cType = d[ext + 7];
  const extLength = 4 + objLength;
  let s = `\n\t${d[off + 7] & 1 ? 'Local' : 'Remote'} Interface`;
  if (ext + extLength <= end && objLength >= 4) {
    const sum = onesComplementSum(d, ext, extLength, 0);
    const field = u16(d, ext + 2);
    s += `, checksum 0x${hex4(field)} ${sum === 0 ? '(correct)' : `(incorrect -> 0x${hex4(checksumShouldBe(field, sum))})`}`;
  }
  s += `, length ${extLength}`;
  const className = objClass === 3 ? 'Interface Identification Object' : objClass === 2 ? 'Interface Information Object' : 'Unknown Object';
  s += `\n\t  ${className} (${objClass}), Class-Type: ${cType}, length ${objLength}`;
  const pay = ext + 8;
  const payLength = objLength - 4;
  if (objClass === 2) {
    // RFC 5837: the top two bits of the C-Type are the interface role.
    const roles = ['Incoming IP Interface', 'Sub-IP Component of Incoming IP Interface', 'Outgoing IP Interface', 'IP Next-hop'];
    return s + `\n\t    Interface Role: ${roles[cType >> 6]}`;
  }
  if (objClass !== 3 || payLength < 0 || pay + payLength > end) return s;
  if (cType === 1) {
    let name = '';
    for (let i = 0; i < payLength && d[pay + i] !== 0; i++) name += escapeChar(d[pay + i]);
    s += `\n\t    Interface Name, length ${payLength}: ${name}`;
  } else if (cType === 2 && payLength >= 4) {
    s += `\n\t    Interface Index: ${u32(d, pay)}`;
  } else if (cType === 3 && payLength >= 4) {
    const afi = u16(d, pay);
    const addr = afi === 1 && payLength >= 8 ? formatIPv4At(d, pay + 4) : afi === 2 && payLength >= 20 ? formatIPv6(d, pay + 4) : '?';
    s += `\n\t    IP Address sub-object: ${addr}`;
  }
  return s;
}

export const ND_OPTION_NAMES: Record<number, string> = {
  1: 'source link-address option', 2: 'destination link-address option', 3: 'prefix info option',
  4: 'redirected header option', 5: 'mtu option', 14: 'nonce option', 24: 'route info option', 25: 'rdnss option',
  31: 'dnssl option', 38: 'pref64 option',
};
