/**
 * `pool` isolation: warm workers kept per key (module + permissions; the import map is fixed per
 * sandbox host), reused call after call, with a size cap, idle eviction, and a reset (the worker
 * is dropped) after any failure, since a failed call may have left the module in a bad state.
 * The parent keeps one per sandbox host, of the lanes to its warm workers (`lane_entry.ts`).
 *
 * @module
 */

/** How the pool creates and ends its workers. */
export interface WorkerPoolOptions<W> {
  /** Creates a worker for `key`, or gives `undefined` when none can be created now (the call
   * then runs elsewhere). */
  spawn(key: string): W | undefined;
  /** Ends a worker; called once per worker, never for one still in use. */
  terminate(worker: W): void;
  /** Most workers kept at once (idle and busy); beyond it an idle one is evicted. @default 8 */
  maxWorkers?: number;
  /** An idle worker is ended after this many milliseconds (give or take one sweep).
   * @default 30000 */
  idleMs?: number;
  /** Calls `fn` after `ms` and returns what cancels it. @default setTimeout, not keeping the
   * process alive */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** The clock of idle times, in ms. @default performance.now */
  now?: () => number;
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
  /** Borrows an idle worker for `key`, or spawns one; `undefined` when every worker is busy and
   * the pool is full (or `spawn` gave none). */
  acquire(key: string): WorkerLease<W> | undefined;
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
  lastUsed: number;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms) as unknown as number;
  // An idle pool must not keep a process alive that has nothing else to do.
  (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno
    ?.unrefTimer?.(id);
  return () => clearTimeout(id);
}

/**
 * Creates a pool of warm workers. Idle workers are ended by one sweep timer, armed only while
 * some worker is idle: a warm call costs no timer of its own.
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
 * const first = pool.acquire("a.ts#f")!;
 * first.release();
 * const second = pool.acquire("a.ts#f")!;
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
  const setTimer = options.setTimer ?? unrefTimer;
  const now = options.now ?? (() => performance.now());
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(
      `Cannot create a worker pool: "maxWorkers" must be a positive integer, found ${maxWorkers}`,
    );
  }
  const entries = new Set<Entry<W>>();
  const byWorker = new Map<W, Entry<W>>();
  let closed = false;
  let cancelSweep: (() => void) | undefined;

  function end(entry: Entry<W>, terminate: boolean): void {
    entries.delete(entry);
    byWorker.delete(entry.worker);
    if (terminate) options.terminate(entry.worker);
  }

  // Ends the workers idle for idleMs, then waits for the next one to be.
  function sweep(): void {
    cancelSweep = undefined;
    const time = now();
    let next = Infinity;
    for (const entry of [...entries]) {
      if (entry.busy) continue;
      const due = entry.lastUsed + idleMs;
      if (due <= time) end(entry, true);
      else next = Math.min(next, due);
    }
    if (next !== Infinity && !closed) {
      cancelSweep = setTimer(sweep, next - time);
    }
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
    entry.lastUsed = now();
    cancelSweep ??= setTimer(sweep, idleMs);
  }

  function add(key: string, worker: W, busy: boolean): Entry<W> {
    const entry: Entry<W> = { key, worker, busy, lastUsed: now() };
    entries.add(entry);
    byWorker.set(worker, entry);
    return entry;
  }

  function lease(entry: Entry<W>, reused: boolean): WorkerLease<W> {
    let released = false;
    return {
      worker: entry.worker,
      reused,
      release(releaseOptions = {}) {
        if (released) return;
        released = true;
        if (!byWorker.has(entry.worker)) return; // discarded or ended while in use
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
          entry.busy = true;
          return lease(entry, true);
        }
      }
      if (!makeRoom()) return undefined;
      const worker = options.spawn(key);
      return worker === undefined
        ? undefined
        : lease(add(key, worker, true), false);
    },
    warm(key) {
      if (closed || entries.size >= maxWorkers) return;
      for (const entry of entries) {
        if (entry.key === key && !entry.busy) return;
      }
      const worker = options.spawn(key);
      if (worker !== undefined) park(add(key, worker, false));
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
      cancelSweep?.();
      cancelSweep = undefined;
      for (const entry of [...entries]) end(entry, true);
    },
  };
}
