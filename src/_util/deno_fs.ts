/**
 * Whether this runtime has Deno's file system API: the file-reading helpers (`loadStepFile`,
 * `readImportMap`, the file store) use it, and say so plainly on a runtime without it (Node)
 * instead of failing with "Deno is not defined".
 *
 * @module
 */

/**
 * True when `globalThis.Deno` offers the file system calls the helpers use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasDenoFs } from "./deno_fs.ts";
 * assert.equal(hasDenoFs(), true); // under Deno
 * ```
 */
export function hasDenoFs(): boolean {
  const deno = (globalThis as { Deno?: { readFile?: unknown } }).Deno;
  return typeof deno?.readFile === "function";
}

/** What the messages tell a Node user to do instead. */
export const NO_DENO_FS =
  "this runtime has no Deno file system API (stepbox on Node reads no files itself)";
