/**
 * HTTP/1.x over one TCP byte stream (RFC 9112): find each message head (possibly spread
 * over several segments), skip its body by its framing (§6.3: Content-Length, chunked, or
 * until close; none for HEAD, 1xx, 204, 304), and pair requests with responses in order on
 * keep-alive and pipelined connections.
 *
 * The stream is fed in-order bytes by the connection tracker (connections.ts), which has
 * already dealt with retransmissions and reordering. After a gap it cannot fill, the tracker
 * calls `gap()`: the parser then waits for a segment that starts a new head.
 */
import { httpHeadKind } from '../decode/index.js';
import { empty } from './arrays.js';
import type { SharedBudget } from './bounds.js';
import type { Connection } from './connections.js';
import { copyHeadFields, headFromLayout, headHint, lastHeadEnd, newHeadFields, readHeadFields, type HeadFields } from './http-head.js';
import { retainPacket, type StitchedPacket } from './stitch.js';

const CR = 0x0d;
const LF = 0x0a;
/** A head longer than this is not HTTP we can follow: the stream is given up until a new head. */
export const MAX_HEAD_BYTES = 64 * 1024;

type StreamState =
  | 'start'        // at a message boundary, waiting for the first byte of a head
  | 'head'         // inside a head, looking for the blank line
  | 'body-length'  // skipping `remaining` body bytes (Content-Length)
  | 'chunk-size'   // reading a chunk-size line (hex, optional ;extensions, CRLF)
  | 'chunk-data'   // skipping `remaining` chunk bytes
  | 'chunk-end'    // the CRLF after chunk data
  | 'trailers'     // trailer lines after the last chunk, up to the blank line
  | 'until-close'  // response without length: the body runs to the end of the connection
  | 'resync'       // lost track (gap, garbage): wait for a segment that starts a head
  | 'opaque';      // after 101 Switching Protocols / CONNECT: not HTTP/1 any more

/** Framing of the body that follows a head. */
export type BodyFraming = 'content-length' | 'chunked' | 'close' | 'none';

/**
 * Live exchange being built (summarised by the analyzer). Reused: a connection keeps a few
 * for its next use, each with its two messages (`request` / `response` point to them once seen).
 */
export interface ExchangeBuilder {
  id: number;
  index: number;
  pipelined: boolean;
  request: MessageBuilder | null;
  response: MessageBuilder | null;
  reset: boolean;
  readonly requestSlot: MessageBuilder;
  readonly responseSlot: MessageBuilder;
}

export interface MessageBuilder {
  head: HeadFields;
  framing: BodyFraming;
  bodyBytes: number;
  startUs: number;
  packet: StitchedPacket;
  segments: number;
}

/** Exchange builders kept for reuse once their connection is summarised (one pool for all connections), at most. */
const SPARE_EXCHANGES = 1024;
const spareExchanges: ExchangeBuilder[] = [];

const NO_HEAD = newHeadFields();

function newMessage(): MessageBuilder {
  return { head: newHeadFields(), framing: 'none', bodyBytes: 0, startUs: 0, packet: null as unknown as StitchedPacket, segments: 0 };
}

function newExchange(): ExchangeBuilder {
  return { id: 0, index: 0, pipelined: false, request: null, response: null, reset: false, requestSlot: newMessage(), responseSlot: newMessage() };
}

/** Fills a message from a head just read. */
function fillMessage(msg: MessageBuilder, head: HeadFields, framing: BodyFraming, startUs: number, packet: StitchedPacket, segments: number): MessageBuilder {
  copyHeadFields(head, msg.head);
  msg.framing = framing;
  msg.bodyBytes = 0;
  msg.startUs = startUs;
  msg.packet = packet;
  msg.segments = segments;
  return msg;
}

/**
 * Pairs requests with responses on one connection. The exchanges are held until the
 * connection is summarised — all connections together at most `bounds.heldExchanges`: past
 * it, a connection holding more than one gives its oldest to be summarised early.
 */
export class ExchangePairing {
  readonly all: ExchangeBuilder[] = [];
  /** Requests waiting for their response, oldest first. */
  private readonly awaiting: ExchangeBuilder[] = [];
  /** Exchanges so far (the next one's index is one more). */
  private count = 0;
  constructor(private readonly owner: Connection) {}

  /** No exchanges (a pooled connection is reused): the builders go back for reuse. */
  reset(): void {
    this.owner.ctx.budget.heldExchanges -= this.all.length;
    while (this.all.length > 0) {
      const ex = this.all.pop()!;
      if (spareExchanges.length < SPARE_EXCHANGES) spareExchanges.push(ex);
    }
    empty(this.awaiting);
    this.count = 0;
  }

  /** Whether heads should be read with all their texts (the analyzer may keep their exchanges). */
  wantTexts(): boolean {
    return this.owner.ctx.wantTexts();
  }

  private take(): ExchangeBuilder {
    const ex = spareExchanges.pop() ?? newExchange();
    ex.id = this.owner.ctx.nextExchangeId();
    ex.index = ++this.count;
    ex.pipelined = false;
    ex.request = null;
    ex.response = null;
    ex.reset = false;
    return ex;
  }

  /** A request head: a new exchange; returns its request message. */
  onRequest(head: HeadFields, framing: BodyFraming, startUs: number, packet: StitchedPacket, segments: number): MessageBuilder {
    const ex = this.take();
    // Pipelined: sent while an earlier request had not started its response yet.
    ex.pipelined = this.awaiting.length > 0;
    const msg = (ex.request = fillMessage(ex.requestSlot, head, framing, startUs, packet, segments));
    this.all.push(ex);
    this.awaiting.push(ex);
    this.held();
    return msg;
  }

  /** One more exchange held: past the bound, this connection's oldest is summarised now (constant time: the oldest is first). */
  private held(): void {
    const budget = this.owner.ctx.budget;
    if (++budget.heldExchanges > budget.heldExchangesPeak) budget.heldExchangesPeak = budget.heldExchanges;
    if (budget.heldExchanges <= budget.bounds.heldExchanges || this.all.length < 2) return;
    // Not reused afterwards: a stream may still be counting its response's body.
    const oldest = this.all.shift()!;
    if (this.awaiting[0] === oldest) this.awaiting.shift();
    budget.heldExchanges--;
    budget.exchangesSummarisedEarly++;
    this.owner.ctx.summariseEarly(this.owner, oldest);
  }

  /** A request is still waiting for its response (not answered, not reset). */
  hasUnanswered(): boolean {
    return this.awaiting.length > 0;
  }

  /** The method of the request the next response answers (HEAD responses have no body). */
  pendingMethod(): string | null {
    return this.awaiting.length > 0 ? this.awaiting[0].request!.head.method : null;
  }

  /** A response head: the response of the oldest request waiting, or an exchange of its own; null for an interim (1xx) response. */
  onResponse(head: HeadFields, framing: BodyFraming, startUs: number, packet: StitchedPacket, segments: number): MessageBuilder | null {
    const status = head.status;
    // 1xx other than 101 are interim: the final response to the same request follows.
    if (status >= 100 && status < 200 && status !== 101) return null;
    const waiting = this.awaiting.shift();
    if (waiting) return (waiting.response = fillMessage(waiting.responseSlot, head, framing, startUs, packet, segments));
    // The capture started after the request (or it was lost): a response on its own.
    const ex = this.take();
    const msg = (ex.response = fillMessage(ex.responseSlot, head, framing, startUs, packet, segments));
    this.all.push(ex);
    this.held();
    return msg;
  }

  /** A RST: every exchange still waiting for its response ends reset. */
  onReset(): void {
    for (const ex of this.awaiting) ex.reset = true;
    empty(this.awaiting);
  }
}

/** Who learns the connection's roles from the first head (the side sending requests is the client). */
export interface RoleSink {
  learnRole(side: 'a' | 'b', kind: 'request' | 'response'): void;
}

/** One direction of HTTP/1 over TCP. */
export class HttpStream {
  state: StreamState = 'start';
  private headBuf: Uint8Array | null = null;
  private headLen = 0;
  private headStartUs = 0;
  private headPacket: StitchedPacket | null = null;
  private headSegments = 0;
  private remaining = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private inChunkExt = false;
  private trailerLineLen = 0;
  private current: MessageBuilder | null = null;
  /** The head being read (copied into its exchange's message once complete). */
  private readonly head: HeadFields = newHeadFields();
  /** The kind of a head just found at a message boundary (read once more by scanHead's fast path, then forgotten). */
  private knownKind: 'request' | 'response' | null = null;
  /** True once any head was recognised: the stream is HTTP. */
  sawHttp = false;
  /** Bytes that were not HTTP where a head should have begun (not HTTP, or lost track). */
  ignoredBytes = 0;

  constructor(private readonly pairing: ExchangePairing, private readonly roles: RoleSink, private readonly side: 'a' | 'b', private readonly budget: SharedBudget) {}

  /** Back to the start of a stream (a pooled connection is reused). */
  reset(): void {
    this.state = 'start';
    this.releaseHeadBuf(); this.headLen = 0; this.headStartUs = 0; this.headPacket = null; this.headSegments = 0;
    this.remaining = 0; this.chunkSize = 0; this.chunkDigits = 0; this.inChunkExt = false; this.trailerLineLen = 0;
    this.current = null; this.sawHttp = false; this.ignoredBytes = 0; this.knownKind = null;
    copyHeadFields(NO_HEAD, this.head);
  }

  /** Feeds in-order stream bytes `data[offset, offset+length)` from one segment. */
  feed(data: Uint8Array, offset: number, length: number, tsUs: number, packet: StitchedPacket): void {
    let p = offset;
    const end = offset + length;
    let segmentCounted = false;
    while (p < end) {
      switch (this.state) {
        case 'start': {
          const kind = httpHeadKind(data, p, end - p);
          // Too short to tell and not obviously garbage: treat as the start of a head.
          if (kind === null && !(end - p < 8 && looksLikeHeadStart(data, p, end))) {
            this.ignoredBytes += end - p;
            this.state = 'resync';
            return;
          }
          this.headStartUs = tsUs;
          this.knownKind = kind;
          this.headPacket = retainPacket(packet);
          this.headSegments = 0;
          this.headLen = 0;
          this.state = 'head';
          break;
        }
        case 'head': {
          if (!segmentCounted) { this.headSegments++; segmentCounted = true; }
          p = this.scanHead(data, p, end);
          break;
        }
        case 'body-length': {
          const n = Math.min(this.remaining, end - p);
          this.addBody(n);
          this.remaining -= n;
          p += n;
          if (this.remaining === 0) this.endMessage();
          break;
        }
        case 'chunk-size': {
          const c = data[p++];
          if (c === LF) {
            if (this.chunkDigits === 0) { this.lost(); return; }
            if (this.chunkSize === 0) { this.state = 'trailers'; this.trailerLineLen = 0; }
            else { this.state = 'chunk-data'; this.remaining = this.chunkSize; }
          } else if (!this.inChunkExt) {
            const v = hexValue(c);
            if (v >= 0 && this.chunkDigits < 12) { this.chunkSize = this.chunkSize * 16 + v; this.chunkDigits++; }
            else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) this.inChunkExt = true;
            else if (c !== CR) { this.lost(); return; }
          }
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, end - p);
          this.addBody(n);
          this.remaining -= n;
          p += n;
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end': {
          const c = data[p++];
          if (c === LF) this.beginChunkSize();
          else if (c !== CR) { this.lost(); return; }
          break;
        }
        case 'trailers': {
          const c = data[p++];
          if (c === LF) {
            if (this.trailerLineLen === 0) this.endMessage();
            this.trailerLineLen = 0;
          } else if (c !== CR) this.trailerLineLen++;
          break;
        }
        case 'until-close': {
          this.addBody(end - p);
          return;
        }
        case 'resync': {
          // Only a segment that itself begins with a head brings us back.
          if (p === offset && httpHeadKind(data, p, end - p) !== null) { this.state = 'start'; break; }
          this.ignoredBytes += end - p;
          return;
        }
        case 'opaque':
          return;
      }
    }
  }

  /**
   * The tracker skipped `bytes` it never saw. Inside a body of known length that is harmless:
   * they are counted as body and parsing goes on. Anywhere else: resynchronise on the next head.
   */
  gap(bytes: number): void {
    if (this.state === 'opaque') return;
    if (this.state === 'until-close') { this.addBody(bytes); return; }
    if ((this.state === 'body-length' || this.state === 'chunk-data') && bytes <= this.remaining) {
      this.addBody(bytes);
      this.remaining -= bytes;
      if (this.remaining === 0) {
        if (this.state === 'body-length') this.endMessage(); else this.state = 'chunk-end';
      }
      return;
    }
    if (this.current) this.current = null;
    this.releaseHeadBuf();
    this.headLen = 0;
    this.state = 'resync';
  }

  /** The connection ended: a body running "until close" is complete now. */
  close(): void {
    if (this.state === 'until-close') this.endMessage();
  }

  private addBody(n: number): void {
    if (this.current) this.current.bodyBytes += n;
  }

  private lost(): void {
    this.current = null;
    this.releaseHeadBuf();
    this.state = 'resync';
  }

  /** Lets go of a partial head (the connection is done). */
  dropHead(): void {
    this.releaseHeadBuf();
  }

  /** The bytes of a head spread over segments count against the shared bound while held. */
  private releaseHeadBuf(): void {
    if (this.headBuf === null) return;
    this.budget.headBytes -= this.headBuf.length;
    this.headBuf = null;
  }

  private beginChunkSize(): void {
    this.state = 'chunk-size';
    this.chunkSize = 0;
    this.chunkDigits = 0;
    this.inChunkExt = false;
  }

  private endMessage(): void {
    this.current = null;
    this.state = 'start';
  }

  /** Looks for the blank line that ends the head; returns where parsing continues. */
  private scanHead(data: Uint8Array, p: number, end: number): number {
    if (this.headLen === 0) {
      // Fast path: the whole head is in this segment — parse it in place, in one pass that
      // also finds its end.
      const kind = this.knownKind ?? httpHeadKind(data, p, end - p);
      this.knownKind = null;
      if (kind !== null) {
        const hint = headHint;
        const head = hint.offset === p && hint.data === data && hint.length === end - p
          ? headFromLayout(data, p, kind, hint.layout, hint.base, this.head, this.pairing.wantTexts())
          : readHeadFields(data, p, end - p, kind, this.head, this.pairing.wantTexts());
        if (head !== null && lastHeadEnd >= 0) {
          this.headParsed(head);
          return lastHeadEnd;
        }
      }
      const headEnd = findHeadEnd(data, p, end, p);
      if (headEnd >= 0) {
        this.completeHead(data, p, headEnd - p);
        return headEnd;
      }
    }
    // Slow path: accumulate (the head spans segments).
    const n = end - p;
    if (this.headLen + n > MAX_HEAD_BYTES) { this.ignoredBytes += n; this.lost(); return end; }
    if (!this.headBuf || this.headBuf.length < this.headLen + n) {
      const size = Math.min(MAX_HEAD_BYTES, Math.max(1024, (this.headLen + n) * 2));
      const more = size - (this.headBuf?.length ?? 0);
      // All streams' partial heads at their bound: this head is given up.
      if (this.budget.headBytes + more > this.budget.bounds.headBytes) { this.budget.headsGivenUp++; this.ignoredBytes += n; this.lost(); return end; }
      const grown = new Uint8Array(size);
      if (this.headBuf) grown.set(this.headBuf.subarray(0, this.headLen));
      this.headBuf = grown;
      this.budget.headBytes += more;
      if (this.budget.headBytes > this.budget.headPeak) this.budget.headPeak = this.budget.headBytes;
    }
    const from = Math.max(0, this.headLen - 3);
    this.headBuf.set(data.subarray(p, end), this.headLen);
    this.headLen += n;
    const headEnd = findHeadEnd(this.headBuf, 0, this.headLen, from);
    if (headEnd < 0) return end;
    // The head ends inside this segment: bytes after it belong to the body / next message.
    const consumedHere = headEnd - (this.headLen - n);
    const buf = this.headBuf;
    this.releaseHeadBuf();
    const len = headEnd;
    this.headLen = 0;
    this.completeHead(buf, 0, len);
    return p + consumedHere;
  }

  private completeHead(data: Uint8Array, offset: number, length: number): void {
    const kind = httpHeadKind(data, offset, length);
    const head = kind === null ? null : readHeadFields(data, offset, length, kind, this.head, this.pairing.wantTexts());
    if (head === null) { this.lost(); return; }
    this.headParsed(head);
  }

  private headParsed(head: HeadFields): void {
    this.sawHttp = true;
    this.roles.learnRole(this.side, head.kind);
    const framing = head.kind === 'request' ? requestFraming(head) : responseFraming(head, this.pairing.pendingMethod());
    const segments = Math.max(1, this.headSegments);
    this.current = head.kind === 'request'
      ? this.pairing.onRequest(head, framing, this.headStartUs, this.headPacket!, segments)
      : this.pairing.onResponse(head, framing, this.headStartUs, this.headPacket!, segments);
    this.headPacket = null;
    if (head.kind === 'response' && head.status === 101) { this.state = 'opaque'; return; }
    if (head.kind === 'request' && head.method === 'CONNECT') { this.state = 'opaque'; return; }
    switch (framing) {
      case 'none': this.endMessage(); break;
      case 'content-length':
        if (head.contentLength === 0) this.endMessage();
        else { this.state = 'body-length'; this.remaining = head.contentLength; }
        break;
      case 'chunked': this.beginChunkSize(); break;
      case 'close': this.state = 'until-close'; break;
    }
  }
}

/** RFC 9112 §6.3 for requests: chunked, else Content-Length (its length is the head's), else no body. */
function requestFraming(head: HeadFields): BodyFraming {
  if (head.chunked) return 'chunked';
  if (head.contentLength >= 0) return 'content-length';
  return 'none';
}

/** RFC 9112 §6.3 for responses: none for HEAD/1xx/204/304, chunked, Content-Length, else until close. */
function responseFraming(head: HeadFields, requestMethod: string | null): BodyFraming {
  const s = head.status;
  if (requestMethod === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return 'none';
  if (head.chunked) return 'chunked';
  if (head.contentLength >= 0) return 'content-length';
  return 'close';
}

/** Index just past the blank line ending a head in data[start, end), searching from `from`; -1 if none. */
function findHeadEnd(data: Uint8Array, start: number, end: number, from: number): number {
  for (let i = Math.max(start, from); i < end; i++) {
    if (data[i] !== LF) continue;
    if (i + 1 < end && data[i + 1] === LF) return i + 2;
    if (i + 2 < end && data[i + 1] === CR && data[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** A very short segment that could be the beginning of a method or of "HTTP/". */
function looksLikeHeadStart(data: Uint8Array, p: number, end: number): boolean {
  for (let i = p; i < end; i++) {
    const c = data[i];
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2f || c === 0x20 || c === 0x2e || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses an X-Amzn-Trace-Id value: `Root=1-<8 hex>-<24 hex>;Self=…;Parent=…`. */
export function parseTraceId(raw: string): { raw: string; root: string | null; self: string | null } {
  let root: string | null = null;
  let self: string | null = null;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key === 'root') root = value;
    else if (key === 'self') self = value;
  }
  return { raw, root, self };
}
