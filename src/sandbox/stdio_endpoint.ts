/**
 * A comlink `Endpoint` over a byte stream (a socket or a pipe): each message is one frame,
 * `[u32 length][u8 channel][u8 format][body]`. The body is UTF-8 JSON: plain JSON when the
 * message is JSON-safe (the common case, and the fast one), otherwise JSON with tagged values
 * for what `postMessage` also carries (`undefined`, Dates, Maps, Sets, RegExps, typed arrays, BigInts,
 * NaN, -0, errors), an object reached again written as a pointer to its first copy (so shared
 * objects and cycles arrive as structured clone makes them). Long strings and long
 * `Uint8Array`s follow the JSON as raw bytes. Channels let both sides expose an API on the same
 * stream.
 *
 * `node:v8`'s `serialize` would do the same with less code, but on Deno 2.9.6 each call grew
 * the resident memory (to ~300 MB over 100,000 small messages) while the JS heap stayed flat.
 *
 * @module
 */

import type { Endpoint } from "npm:comlink@^4.4.2";
import { setOwn } from "../_util/set_own.ts";
import { FrameBuffer } from "./_frame_buffer.ts";

/** A framed, multiplexed message stream. */
export interface StdioEndpoint extends AsyncDisposable {
  /** The comlink endpoint of one channel (0-255); both sides must agree on the numbers. */
  channel(id: number): Endpoint;
  /** Resolves when the incoming stream ends or fails (the peer died or closed). */
  readonly closed: Promise<void>;
  /** Whether the incoming stream has ended. */
  readonly isClosed: boolean;
  /** Resolves once the frames posted so far are written (or writing failed), when frames go
   * straight to a socket; with a `WritableStream`, once it is ready for more. */
  flushed(): Promise<void>;
  /** Stops reading and closes the outgoing stream. */
  close(): Promise<void>;
  /** Why the incoming stream ended, when it was not a clean end (a broken stream or an
   * undecodable frame); `undefined` while open or after a clean end. */
  readonly error: unknown;
}

/** A byte source read directly, such as a `Deno.Conn`. */
export interface ByteReader {
  read(into: Uint8Array): Promise<number | null>;
  /** Ends the source (and, for a socket, the connection): called by `close()`. */
  close?(): void;
}

/** A byte sink written directly, such as a `Deno.Conn`: `write` may take only part of the bytes. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
  /** Ends the outgoing direction (a socket's half-close). */
  closeWrite?(): Promise<void> | void;
}

/** Options of {@linkcode createStdioEndpoint}. */
export interface StdioEndpointOptions {
  /** Receives an error thrown by a message listener. Reading goes on either way: a listener's
   * bug must not end the connection. @default reportError (an uncaught error, as EventTarget) */
  onListenerError?: (error: unknown) => void;
  /** Give each long byte array received a buffer of its own (so that posting it on to a Worker
   * copies its bytes alone, not its whole frame), instead of a view into its frame.
   * @default false */
  ownBytes?: boolean;
}

type Listener = EventListenerOrEventListenerObject;

const HEADER = 6;
const SCRATCH = 64 * 1024;
// Frames from this size on are written from and read into a buffer that every endpoint of the
// thread borrows in turn; a frame that finds it lent allocates its own. The limit bounds what
// each thread keeps (every lane's Worker is a thread): larger frames allocate their own too.
const LARGE_FRAME = 64 * 1024;
const outgoing = new FrameBuffer(4 * 1024 * 1024);
const incoming = new FrameBuffer(4 * 1024 * 1024);
// Small frames borrow a buffer of their own, so that one waiting to be written never sends a
// large frame to allocate.
const outgoingSmall = new FrameBuffer(LARGE_FRAME);

/**
 * Creates a framed endpoint over `input` (incoming frames) and `output` (outgoing frames).
 * Chunks are read into a reused buffer: a frame that lies whole in one is decoded there, any
 * other is copied into a frame of its own, and a large frame's remaining bytes are read straight
 * into it. (Reading a `Deno.Conn` directly, or through a BYOB reader, was faster but grew the
 * resident memory by kilobytes per message on Deno 2.9.6; the default reader stays flat.)
 * A message that cannot be serialized throws from `postMessage`; a frame that cannot be
 * decoded ends the stream, since framing is then lost.
 *
 * Frames go out through `output`: a `WritableStream`, or a {@linkcode ByteWriter} such as the
 * socket itself, written directly (one `write` per frame, no stream machinery per message).
 *
 * @param input The incoming bytes (e.g. a socket's `readable`).
 * @param output The outgoing bytes (e.g. a socket's `writable`, or the socket).
 * @param options What to do with an error thrown by a listener.
 * @returns The endpoint; close it (or `await using` it) when done.
 *
 * @example Two ends of a pipe
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStdioEndpoint } from "./stdio_endpoint.ts";
 * const aToB = new TransformStream<Uint8Array, Uint8Array>();
 * const bToA = new TransformStream<Uint8Array, Uint8Array>();
 * await using a = createStdioEndpoint(bToA.readable, aToB.writable);
 * await using b = createStdioEndpoint(aToB.readable, bToA.writable);
 * const received = new Promise((resolve) =>
 *   b.channel(1).addEventListener("message", (event) => resolve((event as MessageEvent).data))
 * );
 * a.channel(1).postMessage({ when: new Date(0), list: [1, undefined] });
 * assert.deepEqual(await received, { when: new Date(0), list: [1, undefined] });
 * ```
 */
export function createStdioEndpoint(
  input: ReadableStream<Uint8Array> | ByteReader,
  output: WritableStream<Uint8Array> | ByteWriter,
  options: StdioEndpointOptions = {},
): StdioEndpoint {
  const listeners = new Map<number, Set<Listener>>();
  const onListenerError = options.onListenerError ?? defaultListenerError;
  const ownBytes = options.ownBytes === true;
  let isClosed = false;
  let writeFailed = false;
  let endError: unknown;

  // Reading: the stream's chunks are copied into the buffer the frame parser asks to fill.
  // Told apart by their methods, not `instanceof`: the first use of the ReadableStream global
  // loads Deno's streams, about 2 ms of a sandbox host's start that a socket never needs.
  const directReader = isByteReader(input) ? input : undefined;
  const streamReader = directReader === undefined
    ? (input as ReadableStream<Uint8Array>).getReader()
    : undefined;
  let leftover: Uint8Array | undefined;
  let readerDone = false;
  // A socket is read straight into `view`: no async step of its own between the read and the
  // frame parser.
  const readInto = directReader !== undefined
    ? (view: Uint8Array): Promise<number | null> =>
      readerDone ? Promise.resolve(null) : directReader.read(view)
    : readStreamInto;
  async function readStreamInto(view: Uint8Array): Promise<number | null> {
    if (leftover === undefined || leftover.length === 0) {
      const { value, done } = await streamReader!.read();
      if (done) return null;
      leftover = value;
    }
    const take = Math.min(view.length, leftover.length);
    view.set(leftover.subarray(0, take));
    leftover = leftover.subarray(take);
    return take;
  }

  // Writing: frames go out in order, through the stream's writer or straight to the socket.
  const direct = isByteWriter(output) ? output : undefined;
  const streamWriter = direct === undefined
    ? (output as WritableStream<Uint8Array>).getWriter()
    : undefined;
  const queue: Uint8Array[] = [];
  // The frame being written and how much of it is, and who waits for the queue to empty.
  // Written with two callbacks made once, not an async loop: a warm call writes one frame each
  // way, and the loop's own state cost more than the write.
  let writing: Uint8Array | undefined;
  let writtenBytes = 0;
  let onFlushed: (() => void)[] = [];
  function writeNext(): void {
    const frame = writing!;
    try {
      direct!.write(writtenBytes === 0 ? frame : frame.subarray(writtenBytes))
        .then(onWritten, onWriteFailed);
    } catch {
      onWriteFailed();
    }
  }
  function onWritten(count: number): void {
    const frame = writing!;
    writtenBytes += count;
    if (writtenBytes < frame.length) return writeNext();
    giveBack(frame);
    writing = queue.shift();
    writtenBytes = 0;
    if (writing === undefined) return flushed();
    writeNext();
  }
  function onWriteFailed(): void {
    writeFailed = true;
    for (const unwritten of [writing!, ...queue]) giveBack(unwritten);
    queue.length = 0;
    writing = undefined;
    flushed();
  }
  function flushed(): void {
    const waiting = onFlushed;
    onFlushed = [];
    for (const resolve of waiting) resolve();
  }
  function whenFlushed(): Promise<void> {
    if (writing === undefined) return Promise.resolve();
    return new Promise((resolve) => onFlushed.push(resolve));
  }
  // A frame is written as one or more chunks, in order, before the next frame's.
  function send(chunks: Uint8Array[]): void {
    if (direct !== undefined) {
      for (const chunk of chunks) queue.push(chunk);
      if (writing === undefined) {
        writing = queue.shift();
        writtenBytes = 0;
        writeNext();
      }
      return;
    }
    for (const chunk of chunks) {
      streamWriter!.write(chunk).catch(() => writeFailed = true);
    }
  }

  function dispatch(channel: number, data: unknown): void {
    const set = listeners.get(channel);
    if (set === undefined) return;
    const event = { data } as MessageEvent;
    for (const listener of set) {
      // As EventTarget does: a throwing listener is reported, the others still run, and the
      // stream goes on (swallowing it here once ended a host mid-run with status 0).
      try {
        if (typeof listener === "function") listener(event);
        else listener.handleEvent(event);
      } catch (error) {
        onListenerError(error);
      }
    }
  }

  async function readLoop(): Promise<void> {
    const scratch = new Uint8Array(SCRATCH);
    const chunkView = new DataView(scratch.buffer);
    const header = new Uint8Array(HEADER);
    const headerView = new DataView(header.buffer);
    let headerFilled = 0;
    let body: Uint8Array | undefined;
    let bodyFilled = 0;
    let channel = 0;
    let format = 0;
    // A borrowed body goes back before its message is dispatched: once decoded, nothing refers
    // to it, unless a byte array was left viewing it (the buffer is the message's then).
    const deliver = (frame: Uint8Array) => {
      body = undefined;
      if (!incoming.lends(frame)) {
        dispatch(channel, decodeMessage(format, frame, ownBytes));
        return;
      }
      let viewed = false;
      let message: unknown;
      try {
        message = decodeMessage(format, frame, ownBytes, () => viewed = true);
      } finally {
        incoming.giveBack(!viewed);
      }
      dispatch(channel, message);
    };
    try {
      while (true) {
        // A large body still missing many bytes: read them in place, without a copy.
        if (body !== undefined && body.length - bodyFilled >= SCRATCH) {
          const count = await readInto(body.subarray(bodyFilled));
          if (count === null) return;
          bodyFilled += count;
          if (bodyFilled === body.length) deliver(body);
          continue;
        }
        const count = await readInto(scratch);
        if (count === null) return;
        const chunk = scratch.subarray(0, count);
        let offset = 0;
        while (offset < chunk.length) {
          // A frame that lies whole in the chunk is decoded where it lies: no body to
          // allocate and copy into. (Not one with attachments: byte arrays would view the chunk,
          // which the next read overwrites.)
          if (body === undefined && headerFilled === 0) {
            const start = offset + HEADER;
            if (start <= chunk.length && chunk[offset + 5] !== ATTACHED) {
              const end = start + chunkView.getUint32(offset);
              if (end <= chunk.length) {
                const message = decodeMessage(
                  chunk[offset + 5]!,
                  chunk.subarray(start, end),
                  ownBytes,
                );
                offset = end;
                dispatch(chunk[start - 2]!, message);
                continue;
              }
            }
          }
          if (body === undefined) {
            const take = Math.min(HEADER - headerFilled, chunk.length - offset);
            header.set(chunk.subarray(offset, offset + take), headerFilled);
            headerFilled += take;
            offset += take;
            if (headerFilled < HEADER) break;
            channel = header[4]!;
            format = header[5]!;
            const length = headerView.getUint32(0);
            body =
              (length >= LARGE_FRAME ? incoming.borrow(length) : undefined) ??
                new Uint8Array(length);
            bodyFilled = 0;
            headerFilled = 0;
          }
          const take = Math.min(
            body.length - bodyFilled,
            chunk.length - offset,
          );
          body.set(chunk.subarray(offset, offset + take), bodyFilled);
          bodyFilled += take;
          offset += take;
          if (bodyFilled === body.length) deliver(body);
        }
      }
    } catch (error) {
      // A broken stream or an undecodable frame: the connection is over either way; keep why.
      if (!readerDone) endError = error;
    } finally {
      if (body !== undefined && incoming.lends(body)) incoming.giveBack();
      isClosed = true;
      streamReader?.releaseLock();
    }
  }

  const closed = readLoop();

  function channelEndpoint(id: number): Endpoint {
    if (!Number.isInteger(id) || id < 0 || id > 255) {
      throw new RangeError(
        `Cannot open channel ${id}: channels are integers from 0 to 255`,
      );
    }
    return {
      postMessage(message: unknown, transfer?: Transferable[]): void {
        if (writeFailed) return;
        // A stream's writer may hold on to a chunk: only a socket's frames borrow the buffer.
        send(encodeFrame(id, message, transfer, direct !== undefined));
      },
      addEventListener(type: string, listener: Listener): void {
        if (type !== "message") return;
        let set = listeners.get(id);
        if (set === undefined) listeners.set(id, set = new Set());
        set.add(listener);
      },
      removeEventListener(type: string, listener: Listener): void {
        if (type !== "message") return;
        listeners.get(id)?.delete(listener);
      },
    };
  }

  async function close(): Promise<void> {
    await streamReader?.cancel().catch(() => {});
    if (streamWriter !== undefined) {
      await streamWriter.close().catch(() => {});
    } else {
      await whenFlushed();
      try {
        await direct?.closeWrite?.();
      } catch {
        // Already closed by the peer.
      }
    }
    if (directReader !== undefined && !readerDone) {
      readerDone = true;
      try {
        directReader.close?.();
      } catch {
        // Already closed.
      }
    }
    await closed;
  }

  return {
    channel: channelEndpoint,
    closed,
    get isClosed() {
      return isClosed;
    },
    get error() {
      return endError;
    },
    flushed: () =>
      direct !== undefined
        ? whenFlushed()
        : streamWriter!.ready.then(() => {}, () => {}),
    close,
    [Symbol.asyncDispose]: close,
  };
}

// Ends the loan of a written frame's buffer, if it was borrowed.
function giveBack(frame: Uint8Array): void {
  if (outgoing.lends(frame)) outgoing.giveBack();
  else if (outgoingSmall.lends(frame)) outgoingSmall.giveBack();
}

function isByteReader(
  input: ReadableStream<Uint8Array> | ByteReader,
): input is ByteReader {
  return typeof (input as Partial<ByteReader>).read === "function";
}

function isByteWriter(
  output: WritableStream<Uint8Array> | ByteWriter,
): output is ByteWriter {
  return typeof (output as Partial<ByteWriter>).write === "function";
}

function defaultListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void })
    .reportError;
  if (typeof report === "function") {
    report(error);
  } else {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}

// --- Message codec -------------------------------------------------------------------------

const MARK = "\u0000sbx";
const PLAIN = 0x4a; // "J": plain JSON
const TAGGED = 0x54; // "T": JSON with tagged values
// "A": [u32 JSON length][tagged JSON][attachments]: long strings (as UTF-8) and long byte arrays
// travel raw after the JSON, so a 1 MB payload is not escaped (or base64-encoded) and decoded
// again on every hop.
const ATTACHED = 0x41;
const LONG_STRING = 32 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cloneError(what: string): DOMException {
  return new DOMException(`${what} could not be cloned`, "DataCloneError");
}

// The objects one check has met. Most messages hold a handful, which a list finds sooner than
// a Set is made; past SEEN_LIST_MAX of them, a Set.
interface Seen {
  list: object[];
  set: Set<object> | undefined;
}
const SEEN_LIST_MAX = 16;

// Notes `object`; false when it was met before.
function isFirstMeeting(seen: Seen, object: object): boolean {
  const { set } = seen;
  if (set !== undefined) {
    const before = set.size;
    return set.add(object).size !== before;
  }
  if (seen.list.includes(object)) return false;
  if (seen.list.push(object) > SEEN_LIST_MAX) seen.set = new Set(seen.list);
  return true;
}

// Whether JSON.stringify/parse round-trips `value` exactly (each object met once: JSON would
// repeat a shared one), no object uses the marker key and no string is long enough to travel as
// an attachment.
function isPlainJson(value: unknown, seen: Seen): boolean {
  switch (typeof value) {
    case "string":
      return value.length < LONG_STRING;
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (!isFirstMeeting(seen, value)) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !isPlainJson(value[i], seen)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (key === MARK) return false;
    if (!isPlainJson((value as Record<string, unknown>)[key], seen)) {
      return false;
    }
  }
  return true;
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): string {
  const bytes = view instanceof ArrayBuffer
    ? new Uint8Array(view)
    : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}

// `seen` numbers every object in the order it is first reached: an object reached again is
// written as a pointer to that number, so shared objects and cycles arrive as structured clone
// would make them, and a graph that shares itself at every level stays its own size.
function toTagged(
  value: unknown,
  seen: Map<object, number>,
  attachments: Attachments,
): unknown {
  switch (typeof value) {
    case "string":
      if (value.length >= LONG_STRING) {
        return { [MARK]: "x", i: attachments.add(value) };
      }
      return value;
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
        ? value
        : { [MARK]: "n", v: Object.is(value, -0) ? "-0" : String(value) };
    case "undefined":
      return { [MARK]: "u" };
    case "bigint":
      return { [MARK]: "b", v: value.toString() };
    case "function":
      throw cloneError(`A function (${value.name || "anonymous"})`);
    case "symbol":
      throw cloneError(`A symbol (${value.description ?? ""})`);
  }
  if (value === null) return null;
  const object = value as object;
  const earlier = seen.get(object);
  if (earlier !== undefined) return { [MARK]: "p", i: earlier };
  seen.set(object, seen.size);
  if (Array.isArray(object)) {
    const out = new Array(object.length);
    for (let i = 0; i < object.length; i++) {
      out[i] = i in object
        ? toTagged(object[i], seen, attachments)
        : { [MARK]: "u" };
    }
    return out;
  }
  if (object instanceof Date) return { [MARK]: "d", v: object.getTime() };
  if (object instanceof RegExp) {
    return { [MARK]: "r", s: object.source, f: object.flags };
  }
  if (object instanceof Map) {
    return {
      [MARK]: "m",
      v: [...object].map((
        [k, v],
      ) => [
        toTagged(k, seen, attachments),
        toTagged(v, seen, attachments),
      ]),
    };
  }
  if (object instanceof Set) {
    return {
      [MARK]: "s",
      v: [...object].map((v) => toTagged(v, seen, attachments)),
    };
  }
  if (object instanceof ArrayBuffer) {
    return { [MARK]: "ab", v: bytesOf(object) };
  }
  if (
    object instanceof Uint8Array && object.constructor === Uint8Array &&
    object.byteLength >= LONG_STRING
  ) {
    return { [MARK]: "y", i: attachments.add(object) };
  }
  if (ArrayBuffer.isView(object)) {
    return { [MARK]: "tv", c: object.constructor.name, v: bytesOf(object) };
  }
  if (object instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      props[key] = toTagged(
        (object as unknown as Record<string, unknown>)[key],
        seen,
        attachments,
      );
    }
    return {
      [MARK]: "e",
      n: object.name,
      m: object.message,
      s: object.stack,
      c: "cause" in object
        ? toTagged(object.cause, seen, attachments)
        : undefined,
      p: props,
    };
  }
  if (
    object instanceof Boolean || object instanceof Number ||
    object instanceof String
  ) {
    return { [MARK]: "w", v: toTagged(object.valueOf(), seen, attachments) };
  }
  if (
    object instanceof WeakMap || object instanceof WeakSet ||
    object instanceof Promise || object instanceof WeakRef
  ) {
    throw cloneError(`A ${object.constructor.name}`);
  }
  // Plain objects and class instances (as structured clone: own enumerable properties).
  const entries: Array<[string, unknown]> = [];
  let marked = false;
  for (const key of Object.keys(object)) {
    if (key === MARK) marked = true;
    entries.push([
      key,
      toTagged((object as Record<string, unknown>)[key], seen, attachments),
    ]);
  }
  if (marked) return { [MARK]: "o", v: entries };
  return Object.fromEntries(entries);
}

const VIEWS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};

function fromBase64(text: string): ArrayBuffer {
  const bytes = (Uint8Array as unknown as { fromBase64(s: string): Uint8Array })
    .fromBase64(text);
  return bytes.buffer as ArrayBuffer;
}

// Reads attachment `index` as text (a long string) or as bytes (a long Uint8Array).
type AttachmentReader = (index: number, as: "text" | "bytes") => unknown;

// Rebuilds what toTagged wrote. `objects` collects every object in the order toTagged numbered
// them (each before its contents), so a pointer finds its object, even one still being filled.
function fromTagged(
  value: unknown,
  attachment: AttachmentReader,
  objects: unknown[],
): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    objects.push(value);
    for (let i = 0; i < value.length; i++) {
      value[i] = fromTagged(value[i], attachment, objects);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  const tag = record[MARK];
  if (typeof tag !== "string") {
    objects.push(record);
    for (const key of Object.keys(record)) {
      setOwn(record, key, fromTagged(record[key], attachment, objects));
    }
    return record;
  }
  const inner = (item: unknown) => fromTagged(item, attachment, objects);
  // Numbered as they are made, before their contents: a cycle through them finds them.
  const made = <T>(object: T): T => {
    objects.push(object);
    return object;
  };
  switch (tag) {
    case "p": {
      const index = record.i as number;
      if (!(index >= 0 && index < objects.length)) {
        throw new TypeError(
          "Cannot decode a frame: it points to an object it does not have",
        );
      }
      return objects[index];
    }
    case "x":
      return attachment(record.i as number, "text");
    case "y":
      return made(attachment(record.i as number, "bytes"));
    case "u":
      return undefined;
    case "n":
      return record.v === "-0" ? -0 : Number(record.v);
    case "b":
      return BigInt(record.v as string);
    case "d":
      return made(new Date(record.v as number));
    case "r":
      return made(new RegExp(record.s as string, record.f as string));
    case "m": {
      const map = made(new Map<unknown, unknown>());
      for (const [k, v] of record.v as Array<[unknown, unknown]>) {
        const key = inner(k);
        map.set(key, inner(v));
      }
      return map;
    }
    case "s": {
      const set = made(new Set<unknown>());
      for (const item of record.v as unknown[]) set.add(inner(item));
      return set;
    }
    case "ab":
      return made(fromBase64(record.v as string));
    case "tv": {
      const View = VIEWS[record.c as string] ?? Uint8Array;
      return made(new View(fromBase64(record.v as string)));
    }
    case "e": {
      const error = made(new Error(record.m as string));
      error.name = record.n as string;
      Object.defineProperty(error, "stack", {
        value: record.s,
        writable: true,
        configurable: true,
      });
      // In toTagged's order: own properties, then the cause.
      const props = record.p as Record<string, unknown>;
      for (const key of Object.keys(props)) {
        (error as unknown as Record<string, unknown>)[key] = inner(props[key]);
      }
      const cause = inner(record.c);
      if (cause !== undefined) error.cause = cause;
      return error;
    }
    case "w":
      return made(Object(inner(record.v)));
    case "o": {
      const object = made({} as Record<string, unknown>);
      for (const [k, v] of record.v as Array<[string, unknown]>) {
        setOwn(object, k, inner(v));
      }
      return object;
    }
    default:
      throw new TypeError(`Cannot decode a frame: unknown value tag "${tag}"`);
  }
}

// The raw data that follows a frame's JSON, by index: long strings, written as UTF-8, and long
// byte arrays. A byte array whose buffer the sender transferred may be written as it is; any
// other is copied before the message is posted, as postMessage would copy it.
class Attachments {
  readonly list: (string | Uint8Array)[] = [];
  readonly transferred: ReadonlySet<unknown>;

  constructor(transfer: readonly Transferable[] | undefined) {
    this.transferred = new Set(transfer ?? []);
  }

  add(data: string | Uint8Array): number {
    return this.list.push(data) - 1;
  }
}

// One frame, as the chunks to write in order: the header and the body in the format that fits
// the message. With `borrow`, a plain JSON frame, or a large one, is written whole into one of
// the thread's outgoing buffers, which the writer gives back once it is written.
function encodeFrame(
  channel: number,
  message: unknown,
  transfer: readonly Transferable[] | undefined,
  borrow: boolean,
): Uint8Array[] {
  if (isPlainJson(message, { list: [], set: undefined })) {
    const text = JSON.stringify(message);
    // Encoded straight into a borrowed buffer: no body to allocate and copy into a frame.
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so the text always fits.
    const bound = HEADER + 3 * text.length;
    const frame = borrow
      ? (bound < LARGE_FRAME ? outgoingSmall : outgoing).borrow(bound)
      : undefined;
    if (frame === undefined) {
      return [framed(channel, PLAIN, encoder.encode(text))];
    }
    const length = encoder.encodeInto(text, frame.subarray(HEADER)).written;
    writeHeader(frame, length, channel, PLAIN);
    return [frame.subarray(0, HEADER + length)];
  }
  const attachments = new Attachments(transfer);
  const json = encoder.encode(
    JSON.stringify(toTagged(message, new Map(), attachments)) ?? "null",
  );
  const list = attachments.list;
  if (list.length === 0) return [framed(channel, TAGGED, json)];
  // Body: [u32 JSON length][JSON][u32 count][u32 length each][attachment bytes...]
  const prefix = 8 + json.length + 4 * list.length;
  if (borrow) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so the text always fits.
    let bound = HEADER + prefix;
    for (const data of list) {
      bound += typeof data === "string" ? 3 * data.length : data.length;
    }
    const frame = bound >= LARGE_FRAME ? outgoing.borrow(bound) : undefined;
    if (frame !== undefined) {
      let offset = HEADER + prefix;
      const lengths = list.map((data) => {
        const length = typeof data === "string"
          ? encoder.encodeInto(data, frame.subarray(offset)).written
          : (frame.set(data, offset), data.length);
        offset += length;
        return length;
      });
      writeHead(frame, channel, json, lengths, offset - HEADER);
      return [frame.subarray(0, offset)];
    }
  }
  const chunks = list.map((data) =>
    typeof data === "string"
      ? encoder.encode(data)
      : attachments.transferred.has(data.buffer)
      ? data
      : data.slice()
  );
  let size = prefix;
  for (const bytes of chunks) size += bytes.length;
  const head = new Uint8Array(HEADER + prefix);
  writeHead(head, channel, json, chunks.map((bytes) => bytes.length), size);
  return [head, ...chunks];
}

// Writes a frame's header and the start of its ATTACHED body (everything before the
// attachments) into `frame`.
function writeHead(
  frame: Uint8Array,
  channel: number,
  json: Uint8Array,
  lengths: readonly number[],
  bodyLength: number,
): void {
  writeHeader(frame, bodyLength, channel, ATTACHED);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint32(HEADER, json.length);
  frame.set(json, HEADER + 4);
  let offset = HEADER + 4 + json.length;
  view.setUint32(offset, lengths.length);
  for (const length of lengths) view.setUint32(offset += 4, length);
}

function framed(channel: number, format: number, body: Uint8Array) {
  const frame = new Uint8Array(HEADER + body.length);
  writeHeader(frame, body.length, channel, format);
  frame.set(body, HEADER);
  return frame;
}

function writeHeader(
  frame: Uint8Array,
  bodyLength: number,
  channel: number,
  format: number,
): void {
  new DataView(frame.buffer, frame.byteOffset).setUint32(0, bodyLength);
  frame[4] = channel;
  frame[5] = format;
}

function noAttachments(): never {
  throw new TypeError(
    "Cannot decode a frame: it refers to an attachment it does not have",
  );
}

// `onView` hears of each byte array left viewing `body` (only without `ownBytes`).
function decodeMessage(
  format: number,
  body: Uint8Array,
  ownBytes: boolean,
  onView?: () => void,
): unknown {
  if (format === PLAIN) return JSON.parse(decoder.decode(body));
  if (format === TAGGED) {
    return fromTagged(JSON.parse(decoder.decode(body)), noAttachments, []);
  }
  if (format !== ATTACHED) {
    throw new TypeError(`Cannot decode a frame: unknown format ${format}`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const jsonLength = view.getUint32(0);
  const value = JSON.parse(decoder.decode(body.subarray(4, 4 + jsonLength)));
  let offset = 4 + jsonLength;
  const count = view.getUint32(offset);
  offset += 4;
  const starts: number[] = [];
  let start = offset + 4 * count;
  for (let i = 0; i < count; i++) {
    starts.push(start);
    start += view.getUint32(offset + 4 * i);
  }
  starts.push(start);
  return fromTagged(value, (index, as) => {
    if (!(index >= 0 && index < count)) noAttachments();
    const start = starts[index]!;
    const end = starts[index + 1]!;
    if (as === "text") return decoder.decode(body.subarray(start, end));
    // The frame's buffer is this message's alone: a view is safe unless it must move on.
    if (ownBytes) return body.slice(start, end);
    onView?.();
    return body.subarray(start, end);
  }, []);
}
