/**
 * pcapng timestamps: a 64-bit count of units since the epoch, where the unit comes from the
 * interface's if_tsresol option (pcapng draft §4.2: high bit clear → 10^-n s, set → 2^-n s;
 * default 10^-6). Turned into whole seconds + nanoseconds without allocating: a 64-bit value
 * does not fit a double (ns since 1970 ≈ 1.7e18 > 2^53), so it is divided in 16-bit digits.
 */

/** Units per second for an if_tsresol byte; null when it cannot be represented sensibly. */
export function unitsPerSecondOfTsresol(tsresol: number): number | null {
  const exponent = tsresol & 0x7f;
  const perSecond = tsresol & 0x80 ? 2 ** exponent : 10 ** exponent;
  // Beyond 2^53 units per second the division below is no longer exact; nobody writes that.
  return Number.isSafeInteger(perSecond) && perSecond >= 1 ? perSecond : null;
}

/** Reused output of {@link splitTimestamp}: valid until the next call. */
export interface SplitTime {
  sec: number;
  nsec: number;
}

const TWO_POW_32 = 4294967296;
/** Below this high word, high·2^32 + low is exact in a double. */
const EXACT_HIGH_LIMIT = 2 ** 21;

/**
 * Splits `high·2^32 + low` units into seconds and nanoseconds (into `out`, returned).
 * Exact for every units-per-second up to 2^36; approximate to the nanosecond above that.
 */
export function splitTimestamp(high: number, low: number, unitsPerSecond: number, out: SplitTime): SplitTime {
  let sec: number;
  let rem: number;
  if (high < EXACT_HIGH_LIMIT) {
    const value = high * TWO_POW_32 + low;
    sec = Math.floor(value / unitsPerSecond);
    rem = value - sec * unitsPerSecond;
  } else if (unitsPerSecond <= 2 ** 36) {
    // Long division of the four 16-bit digits; every intermediate stays below 2^53.
    let r = 0;
    let cur = r * 65536 + (high >>> 16);
    const q3 = Math.floor(cur / unitsPerSecond); r = cur - q3 * unitsPerSecond;
    cur = r * 65536 + (high & 0xffff);
    const q2 = Math.floor(cur / unitsPerSecond); r = cur - q2 * unitsPerSecond;
    cur = r * 65536 + (low >>> 16);
    const q1 = Math.floor(cur / unitsPerSecond); r = cur - q1 * unitsPerSecond;
    cur = r * 65536 + (low & 0xffff);
    const q0 = Math.floor(cur / unitsPerSecond); r = cur - q0 * unitsPerSecond;
    sec = q3 * 281474976710656 + q2 * TWO_POW_32 + q1 * 65536 + q0;
    rem = r;
  } else {
    const value = high * TWO_POW_32 + low;
    sec = Math.floor(value / unitsPerSecond);
    rem = Math.max(0, value - sec * unitsPerSecond);
  }
  out.sec = sec;
  out.nsec = unitsPerSecond === 1e9 ? rem : unitsPerSecond === 1e6 ? rem * 1000 : Math.min(999_999_999, Math.floor((rem * 1e9) / unitsPerSecond));
  return out;
}
