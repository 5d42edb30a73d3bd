/**
 * `pool` isolation: warm workers kept per key (module + permissions; the import map is fixed per
 * sandbox host), reused call after call, with a size cap, idle eviction, and a reset (the worker
 * is dropped) after any failure, since a failed call may have left the module in a bad state.
 *
 * @module
 */

/** How the pool creates and ends its workers. */
export interface WorkerPoolOptions<W> {
  /** Creates a worker for `key`. */
  spawn(key: string): W;
  /** Ends a worker; called once per worker, never for one still in use. */
  terminate(worker: W): void;
  /** Most workers kept at once (idle and busy); beyond it an idle one is evicted, or a
   * one-off worker is used and ended after its call. @default 8 */
  maxWorkers?: number;
  /** An idle worker is ended after this many milliseconds. @default 30000 */
  idleMs?: number;
  /** Calls `fn` after `ms` and returns what cancels it. @default setTimeout and clearTimeout */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

/** A worker borrowed from the pool; give it back with `release`. */
export interface WorkerLease<W> {
  readonly worker: W;
  /** Whether the worker was already warm (reused) when acquired. */
  readonly reused: boolean;
  /** Returns the worker; `reset: true` ends it instead of keeping it (after a failure). */
  release(options?: { reset?: boolean }): void;
}

/** Warm workers by key. */
export interface WorkerPool<W> {
  /** Borrows an idle worker for `key`, or spawns one. */
  acquire(key: string): WorkerLease<W>;
  /** Spawns an idle worker for `key` ahead of need, if none is idle and there is room. */
  warm(key: string): void;
  /** Forgets a worker that died by itself (it is not terminated again). */
  discard(worker: W): void;
  /** Workers kept (idle and busy). */
  readonly size: number;
  /** Ends every worker, busy ones included, and refuses further use. */
  close(): void;
}

interface Entry<W> {
  key: string;
  worker: W;
  busy: boolean;
  /** Cancels the idle timer, while there is one. */
  cancelTimer: (() => void) | undefined;
  lastUsed: number;
}

/**
 * Creates a pool of warm workers.
 *
 * @param options How to spawn and end workers, the size cap and the idle time.
 * @returns The pool.
 *
 * @example Reuse, and reset after a failure
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWorkerPool } from "./pool.ts";
 * let spawned = 0;
 * const ended: number[] = [];
 * const pool = createWorkerPool<number>({
 *   spawn: () => ++spawned,
 *   terminate: (worker) => void ended.push(worker),
 * });
 * const first = pool.acquire("a.ts#f");
 * first.release();
 * const second = pool.acquire("a.ts#f");
 * assert.equal(second.worker, first.worker);
 * assert.equal(second.reused, true);
 * second.release({ reset: true });
 * assert.deepEqual(ended, [1]);
 * pool.close();
 * ```
 */
export function createWorkerPool<W>(
  options: WorkerPoolOptions<W>,
): WorkerPool<W> {
  const maxWorkers = options.maxWorkers ?? 8;
  const idleMs = options.idleMs ?? 30_000;
  const setTimer = options.setTimer ?? ((fn, ms) => {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  });
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(
      `Cannot create a worker pool: "maxWorkers" must be a positive integer, found ${maxWorkers}`,
    );
  }
  const entries = new Set<Entry<W>>();
  const byWorker = new Map<W, Entry<W>>();
  let closed = false;

  function end(entry: Entry<W>, terminate: boolean): void {
    entry.cancelTimer?.();
    entry.cancelTimer = undefined;
    entries.delete(entry);
    byWorker.delete(entry.worker);
    if (terminate) options.terminate(entry.worker);
  }

  function makeRoom(): boolean {
    if (entries.size < maxWorkers) return true;
    let oldest: Entry<W> | undefined;
    for (const entry of entries) {
      if (
        !entry.busy &&
        (oldest === undefined || entry.lastUsed < oldest.lastUsed)
      ) {
        oldest = entry;
      }
    }
    if (oldest === undefined) return false;
    end(oldest, true);
    return true;
  }

  function park(entry: Entry<W>): void {
    entry.busy = false;
    entry.lastUsed = performance.now();
    entry.cancelTimer = setTimer(() => end(entry, true), idleMs);
  }

  function lease(
    entry: Entry<W> | undefined,
    worker: W,
    reused: boolean,
  ): WorkerLease<W> {
    let released = false;
    return {
      worker,
      reused,
      release(releaseOptions = {}) {
        if (released) return;
        released = true;
        if (entry === undefined) {
          // A one-off worker (the pool was full of busy workers), or the pool is closed.
          options.terminate(worker);
          return;
        }
        if (!byWorker.has(worker)) return; // discarded while in use
        if (releaseOptions.reset || closed) end(entry, true);
        else park(entry);
      },
    };
  }

  return {
    acquire(key) {
      if (closed) {
        throw new Error("Cannot acquire a worker: the pool is closed");
      }
      for (const entry of entries) {
        if (entry.key === key && !entry.busy) {
          entry.cancelTimer?.();
          entry.cancelTimer = undefined;
          entry.busy = true;
          return lease(entry, entry.worker, true);
        }
      }
      const worker = options.spawn(key);
      if (!makeRoom()) return lease(undefined, worker, false);
      const entry: Entry<W> = {
        key,
        worker,
        busy: true,
        cancelTimer: undefined,
        lastUsed: performance.now(),
      };
      entries.add(entry);
      byWorker.set(worker, entry);
      return lease(entry, worker, false);
    },
    warm(key) {
      if (closed) return;
      for (const entry of entries) {
        if (entry.key === key && !entry.busy) return;
      }
      if (entries.size >= maxWorkers) return;
      const worker = options.spawn(key);
      const entry: Entry<W> = {
        key,
        worker,
        busy: false,
        cancelTimer: undefined,
        lastUsed: performance.now(),
      };
      entries.add(entry);
      byWorker.set(worker, entry);
      park(entry);
    },
    discard(worker) {
      const entry = byWorker.get(worker);
      if (entry !== undefined) end(entry, false);
    },
    get size() {
      return entries.size;
    },
    close() {
      closed = true;
      for (const entry of [...entries]) end(entry, true);
    },
  };
}
