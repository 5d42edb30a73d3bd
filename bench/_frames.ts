/**
 * Length-prefixed text frames over a byte stream (a Unix socket): the plainest wire protocol a
 * process boundary can have, for the `host-worker-rtt` floor.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes `text` as one frame: a 4-byte big-endian length, then the UTF-8 bytes.
 *
 * @example A frame's bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFrame } from "./_frames.ts";
 *
 * const chunks: Uint8Array[] = [];
 * await writeFrame({ write: async (bytes) => (chunks.push(bytes), bytes.length) }, "hi");
 * assert.deepEqual([...chunks[0]!], [0, 0, 0, 2, 104, 105]);
 * ```
 */
export async function writeFrame(
  writer: Pick<Deno.Conn, "write">,
  text: string,
): Promise<void> {
  const body = encoder.encode(text);
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  for (let written = 0; written < frame.length;) {
    written += await writer.write(frame.subarray(written));
  }
}

/**
 * Reads frames written by {@linkcode writeFrame}; `next()` resolves with the next frame's text, or
 * `undefined` once the stream has ended.
 *
 * @example Two frames in one chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader } from "./_frames.ts";
 *
 * const bytes = [0, 0, 0, 1, 97, 0, 0, 0, 1, 98];
 * let sent = false;
 * const reader = new FrameReader({
 *   read: async (buffer) => sent ? null : (sent = true, buffer.set(bytes), bytes.length),
 * });
 * assert.equal(await reader.next(), "a");
 * assert.equal(await reader.next(), "b");
 * assert.equal(await reader.next(), undefined);
 * ```
 */
export class FrameReader {
  readonly #reader: Pick<Deno.Conn, "read">;
  #buffer = new Uint8Array(0);
  // Reused for every read: a fresh 64 KiB buffer per small frame would cost more than the frame.
  readonly #chunk = new Uint8Array(64 * 1024);

  constructor(reader: Pick<Deno.Conn, "read">) {
    this.#reader = reader;
  }

  /** The next frame's text, or `undefined` at the end of the stream. */
  async next(): Promise<string | undefined> {
    while (true) {
      if (this.#buffer.length >= 4) {
        const length = new DataView(
          this.#buffer.buffer,
          this.#buffer.byteOffset,
        ).getUint32(0);
        if (this.#buffer.length >= 4 + length) {
          const text = decoder.decode(this.#buffer.subarray(4, 4 + length));
          this.#buffer = this.#buffer.subarray(4 + length);
          return text;
        }
      }
      const chunk = this.#chunk;
      const read = await this.#reader.read(chunk);
      if (read === null) return undefined;
      const joined = new Uint8Array(this.#buffer.length + read);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = joined;
    }
  }
}
