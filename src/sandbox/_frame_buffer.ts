/**
 * A buffer that large frames borrow one at a time. Allocating a fresh megabyte for every frame
 * written or read cost more than filling it (about 180 µs against 30–40 µs for 1 MB on Deno
 * 2.9.6): a borrowed buffer's pages are already there. Private to `stdio_endpoint.ts`.
 *
 * @module
 */

/**
 * A growable buffer lent to one frame at a time; a frame that finds it lent allocates its own.
 *
 * @example Lent once at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameBuffer } from "./_frame_buffer.ts";
 *
 * const buffer = new FrameBuffer(1 << 20);
 * const bytes = buffer.borrow(100_000)!;
 * assert.equal(bytes.length, 100_000);
 * assert.ok(buffer.lends(bytes));
 * assert.equal(buffer.borrow(10), undefined);
 * buffer.giveBack();
 * assert.equal(buffer.borrow(200_000)?.length, 200_000);
 * assert.equal(buffer.borrow(2 << 20), undefined);
 * ```
 */
export class FrameBuffer {
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #lent = false;

  /** @param maxBytes The largest size lent; a larger frame allocates its own buffer. */
  constructor(readonly maxBytes: number) {}

  /**
   * The first `size` bytes of the buffer, grown when too small, or `undefined` when it is lent
   * already or `size` is over the limit. Until {@linkcode giveBack}, the bytes are the caller's.
   */
  borrow(size: number): Uint8Array<ArrayBuffer> | undefined {
    if (this.#lent || size > this.maxBytes) return undefined;
    if (this.#bytes === undefined || this.#bytes.length < size) {
      // Pages never written are never touched: a generous size costs address space only.
      this.#bytes = new Uint8Array(size);
    }
    this.#lent = true;
    return this.#bytes.subarray(0, size);
  }

  /** Whether `view` is part of the buffer while it is lent. */
  lends(view: Uint8Array): boolean {
    return this.#lent && view.buffer === this.#bytes?.buffer;
  }

  /**
   * Ends the loan. `keep: false` when what was made from the bytes still views them (a decoded
   * byte array): the buffer is theirs then, and the next borrower gets a new one.
   */
  giveBack(keep = true): void {
    this.#lent = false;
    if (!keep) this.#bytes = undefined;
  }
}
