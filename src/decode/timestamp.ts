/**
 * Timestamps as tcpdump prints them (print.c ts_print): -t none, default time of day in
 * local time (TZ respected), -tt epoch seconds, -ttt delta to the previous packet, -tttt
 * date and time, -ttttt delta to the first packet; micro- or nanosecond precision.
 */

export type TimestampStyle = 'none' | 'time' | 'epoch' | 'delta' | 'datetime' | 'sinceFirst';
export type TimestampPrecision = 'micro' | 'nano';

/** `-t` repeated N times → style (N = 0 is the default time of day). */
export function timestampStyleFromCount(n: number): TimestampStyle {
  return (['time', 'none', 'epoch', 'delta', 'datetime', 'sinceFirst'] as const)[Math.min(n, 5)];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Local broken-down time of `sec` seconds since the epoch (Date uses process TZ). */
function localParts(sec: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const t = new Date(sec * 1000);
  return { y: t.getFullYear(), mo: t.getMonth() + 1, d: t.getDate(), h: t.getHours(), mi: t.getMinutes(), s: t.getSeconds() };
}

export class TimestampFormatter {
  private prevSec = 0;
  private prevFrac = 0;
  private firstSec = 0;
  private firstFrac = 0;
  private seen = false;
  private readonly unitsPerSec: number;
  private readonly width: number;

  constructor(readonly style: TimestampStyle, readonly precision: TimestampPrecision) {
    this.unitsPerSec = precision === 'nano' ? 1e9 : 1e6;
    this.width = precision === 'nano' ? 9 : 6;
  }

  /**
   * The timestamp text including its trailing space ('' for -t). `invalidFraction`: the
   * sub-second field as written in the file when it is out of range (pcap's
   * tsInvalidFraction); tcpdump prints it as is, marked "(invalid us)" / "(invalid ns)".
   */
  format(tsSec: number, tsNsec: number, invalidFraction: number | null = null): string {
    // libpcap hands tcpdump micro-precision timestamps truncated from nanoseconds.
    const frac = this.precision === 'nano' ? tsNsec : Math.floor(tsNsec / 1000);
    const fracText = invalidFraction !== null ? String(invalidFraction).padStart(this.width, '0') : pad(frac, this.width);
    const invalid = invalidFraction !== null ? ` (invalid ${this.precision === 'nano' ? 'ns' : 'us'})` : '';
    switch (this.style) {
      case 'none':
        return '';
      case 'epoch':
        return `${tsSec}.${fracText}${invalid} `;
      case 'time': {
        const p = localParts(tsSec);
        return `${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}.${fracText}${invalid} `;
      }
      case 'datetime': {
        const p = localParts(tsSec);
        return `${p.y}-${pad(p.mo, 2)}-${pad(p.d, 2)} ${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}.${fracText}${invalid} `;
      }
      case 'delta':
      case 'sinceFirst': {
        if (!this.seen) {
          this.seen = true;
          this.firstSec = this.prevSec = tsSec;
          this.firstFrac = this.prevFrac = frac;
        }
        const baseSec = this.style === 'delta' ? this.prevSec : this.firstSec;
        const baseFrac = this.style === 'delta' ? this.prevFrac : this.firstFrac;
        let dSec = tsSec - baseSec;
        let dFrac = frac - baseFrac;
        let negative = false;
        if (dSec < 0 || (dSec === 0 && dFrac < 0)) {
          negative = true;
          dSec = -dSec;
          dFrac = -dFrac;
        }
        if (dFrac < 0) { dSec -= 1; dFrac += this.unitsPerSec; }
        if (this.style === 'delta') { this.prevSec = tsSec; this.prevFrac = frac; }
        const h = Math.floor(dSec / 3600);
        const m = Math.floor((dSec % 3600) / 60);
        const s = dSec % 60;
        return `${negative ? '-' : ' '}${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(dFrac, this.width)} `;
      }
    }
  }
}
