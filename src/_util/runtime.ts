// Portable: no runtime APIs.
/**
 * Tells the runtimes apart, once: the executors report it, and the runtime-specific parts
 * (the sandbox host system, the file calls) pick their implementation by it.
 *
 * @module
 */

/** The runtimes stepbox tells apart. */
export type Runtime = "deno" | "node" | "other";

// Only the globals touched here are declared, so this file type-checks on every runtime.
interface RuntimeGlobals {
  Deno?: { version?: { deno?: unknown } };
  process?: { versions?: { node?: unknown } };
}

function computeRuntime(): Runtime {
  const globals = globalThis as RuntimeGlobals;
  // Deno first: it also provides a Node-compatible `process`.
  if (typeof globals.Deno?.version?.deno === "string") return "deno";
  if (typeof globals.process?.versions?.node === "string") return "node";
  return "other";
}

const RUNTIME: Runtime = computeRuntime();

/**
 * The runtime this code runs on, detected once when the module loads.
 *
 * @returns `"deno"`, `"node"` or `"other"` (a browser, an edge runtime).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectRuntime } from "./runtime.ts";
 * assert.equal(detectRuntime(), "deno");
 * ```
 */
export function detectRuntime(): Runtime {
  return RUNTIME;
}
