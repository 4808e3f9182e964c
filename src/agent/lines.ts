/**
 * A bounded line splitter for JSON lines: a line longer than the bound is reported as soon as
 * it passes the bound, and skipped up to its newline, so a hostile or broken peer cannot make us buffer without end.
 */

export type LineEvent = { kind: 'line'; text: string } | { kind: 'oversized'; bytes: number };

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Inside an oversized line: bytes are dropped until its newline. */
  private skipping = false;

  constructor(private readonly maxLineBytes: number, private readonly emit: (e: LineEvent) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.skipping) {
        // dropped
      } else if (this.size + piece.length > this.maxLineBytes) {
        // Answer at once (the peer may never send the newline), then drop up to the newline.
        this.skipping = true;
        this.emit({ kind: 'oversized', bytes: this.size + piece.length });
        this.parts = [];
        this.size = 0;
      } else if (piece.length > 0) {
        this.parts.push(Buffer.from(piece));
        this.size += piece.length;
      }
      if (nl < 0) break;
      this.flushLine();
      start = nl + 1;
    }
  }

  /** The input ended: a last line without newline still counts. */
  end(): void {
    if (this.skipping || this.size > 0) this.flushLine();
  }

  private flushLine(): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const text = Buffer.concat(this.parts, this.size).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.size = 0;
    if (text.trim() !== '') this.emit({ kind: 'line', text });
  }
}
