/**
 * Bare Workers for the floors: the same permission set stepbox gives a step that asks for nothing.
 *
 * @module
 */

/**
 * Every permission kind denied explicitly: an empty `deno.permissions` object would mean *inherit*
 * (denoland/deno#26057), so the floor sets each key, as stepbox does.
 */
export const DENY_ALL: Deno.PermissionOptionsObject = Object.freeze({
  env: false,
  ffi: false,
  import: false,
  net: false,
  read: false,
  run: false,
  sys: false,
  write: false,
});

/** The Worker that answers each message with the `hello` step's result. */
export const RAW_WORKER_URL: URL = new URL(
  "./fixtures/raw_worker.ts",
  import.meta.url,
);

/** The Worker that exposes the `hello` step through comlink. */
export const COMLINK_WORKER_URL: URL = new URL(
  "./fixtures/comlink_worker.ts",
  import.meta.url,
);

/**
 * Starts a module Worker with every permission denied.
 *
 * @example Start one, call it, stop it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, RAW_WORKER_URL, startWorker } from "./_workers.ts";
 *
 * const worker = startWorker(RAW_WORKER_URL);
 * try {
 *   const request = connect(worker);
 *   assert.deepEqual(await request({ name: "doc" }), { message: "hello doc" });
 * } finally {
 *   worker.terminate();
 * }
 * ```
 */
export function startWorker(url: URL): Worker {
  return new Worker(url, { type: "module", deno: { permissions: DENY_ALL } });
}

/**
 * Installs one `message` and one `error` listener on `worker` (as an RPC library would, rather
 * than a handler per call) and returns a function that posts a message and resolves with the next
 * reply. Requests must not overlap: the benches await each one.
 *
 * @example Two calls on one worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, RAW_WORKER_URL, startWorker } from "./_workers.ts";
 *
 * const worker = startWorker(RAW_WORKER_URL);
 * try {
 *   const request = connect(worker);
 *   assert.deepEqual(await request({ name: "a" }), { message: "hello a" });
 *   assert.deepEqual(await request({ name: "b" }), { message: "hello b" });
 * } finally {
 *   worker.terminate();
 * }
 * ```
 */
export function connect(
  worker: Worker,
): (message: unknown) => Promise<unknown> {
  let pending:
    | { resolve(value: unknown): void; reject(error: Error): void }
    | undefined;
  worker.addEventListener("message", (event: MessageEvent) => {
    const current = pending;
    pending = undefined;
    current?.resolve(event.data);
  });
  worker.addEventListener("error", (event: ErrorEvent) => {
    event.preventDefault();
    const current = pending;
    pending = undefined;
    current?.reject(
      new Error(`Cannot run the benchmark worker: ${event.message}`),
    );
  });
  return (message) =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      worker.postMessage(message);
    });
}
