/**
 * The pieces of the sandbox protocol that a step's Worker needs: payload encoding, the result
 * envelope and error serialization. Kept free of imports so that every Worker loads as little
 * code as possible; {@linkcode ./protocol.ts} re-exports all of it.
 *
 * @module
 */

import type { PiecesHead, Split } from "./_pieces.ts";

/**
 * A value in transit. Large JSON-safe values travel as JSON text, which is several times cheaper
 * than structured clone of the same object graph; everything else as the value itself. Over a
 * socket the text is one raw UTF-8 attachment of its frame, written from and read into buffers
 * the endpoint reuses (see `stdio_endpoint.ts`); between threads, a string is copied once. On a
 * lane, a very large one may travel in pieces after its envelope (see `_pieces.ts`).
 */
export type Payload =
  | { kind: "json"; text: string }
  | { kind: "clone"; value: unknown }
  | PiecesHead;

export type { PiecesHead, Split };

/** An error as plain, cloneable data. */
export interface SerializedError {
  /** The error's `name` (its class name for every class stepbox rebuilds). */
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties other than name, message, stack and cause (e.g. `code`). */
  props: Record<string, unknown>;
  /** The `cause`, serialized the same way. */
  cause?: SerializedError;
  /** The errors of an `AggregateError`. */
  errors?: SerializedError[];
  /** Set when the thrown value was not an Error: the value itself. */
  thrown?: { value: unknown };
}

/** The answer to every call: never a throw across the boundary. */
export type StepOutcome =
  | { ok: true; value: Payload }
  | { ok: false; error: SerializedError };

/** The size (in estimated JSON characters) from which a JSON-safe value travels as text. */
export const JSON_PAYLOAD_THRESHOLD: number = 16 * 1024;

/** Options of {@linkcode encodePayload}. */
export interface EncodeOptions {
  /** The estimated JSON size from which text is used. */
  threshold?: number;
  /** The caller has already checked that the value is JSON-safe: no walk is needed to decide. */
  jsonSafe?: boolean;
  /**
   * Given on a lane (`splitOf` of `_pieces.ts`, which other Workers never load): finds how to
   * send a very large JSON-safe value in pieces, given its JSON size when known.
   */
  split?: (value: unknown, size?: number) => Split | undefined;
}

/**
 * Encodes `value` for a boundary: JSON text when it is JSON-safe (plain objects, arrays,
 * strings, finite numbers other than -0, booleans, null) and large, the value itself otherwise.
 * Within a value sent as JSON, an object reached twice arrives as two equal objects: finding
 * repeated references would cost a set of every object, more than the rest of the check.
 *
 * @param value The value to send.
 * @param options The threshold, what the caller knows, and how to split for pieces.
 * @returns The payload to send, or with `split`, possibly the value to send in pieces.
 *
 * @example Small values stay values, large JSON-safe ones become JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePayload } from "./protocol.ts";
 * assert.deepEqual(encodePayload({ a: 1 }), { kind: "clone", value: { a: 1 } });
 * assert.equal(encodePayload({ a: "x".repeat(20000) }).kind, "json");
 * assert.equal(encodePayload({ when: new Date(0), a: "x".repeat(20000) }).kind, "clone");
 * assert.equal(encodePayload({ a: "x".repeat(20000) }, { jsonSafe: true }).kind, "json");
 * assert.equal(encodePayload({ a: 1 }, { jsonSafe: true }).kind, "clone");
 * ```
 *
 * @example With a splitter, a very large value may go in pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePayload } from "./protocol.ts";
 * import { splitOf } from "./_pieces.ts";
 * const rows = Array.from({ length: 20000 }, (_, i) => ({ i }));
 * assert.equal(encodePayload({ rows }, { split: splitOf }).kind, "split");
 * assert.equal(encodePayload({ rows }).kind, "json");
 * ```
 */
export function encodePayload(
  value: unknown,
  options: EncodeOptions & { split: NonNullable<EncodeOptions["split"]> },
): Payload | Split;
export function encodePayload(value: unknown, options?: EncodeOptions): Payload;
export function encodePayload(
  value: unknown,
  options: EncodeOptions = {},
): Payload | Split {
  const threshold = options.threshold ?? JSON_PAYLOAD_THRESHOLD;
  if (options.jsonSafe === true) {
    const split = options.split?.(value);
    if (split !== undefined) return split;
    try {
      // The text's length stands in for the estimate: small values stay values, as below.
      const text = JSON.stringify(value);
      if (text.length >= threshold) return { kind: "json", text };
      return { kind: "clone", value };
    } catch {
      // Nesting too deep for JSON: decide as for any value.
    }
  }
  let size = -1;
  try {
    size = jsonSize(value, { nodes: NODE_BUDGET });
  } catch {
    // Nesting too deep for a recursive walk, or a cycle: structured clone copes, JSON does not.
  }
  if (size < threshold) return { kind: "clone", value };
  return options.split?.(value, size) ??
    { kind: "json", text: JSON.stringify(value) };
}

/**
 * Decodes a payload made by {@linkcode encodePayload}.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePayload, encodePayload } from "./protocol.ts";
 * const value = { list: Array.from({ length: 3000 }, (_, i) => ({ i })) };
 * assert.deepEqual(decodePayload(encodePayload(value)), value);
 * ```
 */
export function decodePayload(payload: Payload): unknown {
  if (payload.kind === "json") return JSON.parse(payload.text);
  if (payload.kind === "clone") return payload.value;
  throw new TypeError(
    "Cannot decode a payload sent in pieces without its pieces",
  );
}

// Returns the estimated JSON length, or -1 when the value is not JSON-safe. A repeated
// reference is walked (and sent) again each time; a cycle overflows the stack (caught by the
// caller), and a value that would take more than NODE_BUDGET visits (say, a small graph that
// shares itself exponentially) is sent as it is, and structured clone keeps each object once.
const NODE_BUDGET = 4_000_000;

function jsonSize(value: unknown, budget: { nodes: number }): number {
  if (value === null) return 4;
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      // JSON writes -0 as 0.
      return Number.isFinite(value) && !Object.is(value, -0) ? 8 : -1;
    case "boolean":
      return 5;
    case "object":
      break;
    default:
      return -1;
  }
  if (--budget.nodes < 0) return -1;
  if (Array.isArray(value)) {
    let size = 2;
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined, which is refused like any undefined (an `in` test per item
      // cost 40% of this walk).
      const item = jsonSize(value[i], budget);
      if (item < 0) return -1;
      size += item + 1;
    }
    return size;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return -1;
  let size = 2;
  for (const key in value) {
    const item = jsonSize((value as Record<string, unknown>)[key], budget);
    if (item < 0) return -1;
    size += key.length + item + 4;
  }
  return size;
}

const RESERVED = new Set(["name", "message", "stack", "cause"]);

/**
 * Turns anything thrown into plain data: name, message, stack, own enumerable properties
 * (such as `code`), the `cause` chain and an `AggregateError`'s errors. A thrown non-Error is
 * kept as `thrown.value` when it can be cloned, as its text otherwise.
 *
 * @param error What was thrown.
 * @returns Plain data that survives structured clone and `the sandbox's socket frames` serialization.
 *
 * @example A custom error keeps its code and cause
 * ```ts
 * import assert from "node:assert/strict";
 * import { serializeError } from "./protocol.ts";
 * const error = Object.assign(new RangeError("too big", { cause: new Error("root") }), { code: "E_BIG" });
 * const data = serializeError(error);
 * assert.equal(data.name, "RangeError");
 * assert.deepEqual(data.props, { code: "E_BIG" });
 * assert.equal(data.cause?.message, "root");
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  return serialize(error, new Set());
}

function serialize(error: unknown, seen: Set<unknown>): SerializedError {
  if (!(error instanceof Error) && !looksLikeError(error)) {
    return {
      name: "Error",
      message: describe(error),
      props: {},
      thrown: { value: cloneableOrText(error) },
    };
  }
  seen.add(error);
  const source = error as Error & Record<string, unknown>;
  const result: SerializedError = {
    name: String(source.name ?? "Error"),
    message: String(source.message ?? ""),
    props: {},
  };
  if (typeof source.stack === "string") result.stack = source.stack;
  for (const key of Object.keys(source)) {
    if (RESERVED.has(key)) continue;
    result.props[key] = cloneableOrText(source[key]);
  }
  if ("cause" in source && source.cause !== undefined) {
    result.cause = seen.has(source.cause)
      ? { name: "Error", message: "[circular cause]", props: {} }
      : serialize(source.cause, seen);
  }
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    result.errors = error.errors.map((item) => serialize(item, seen));
  }
  return result;
}

function looksLikeError(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    typeof (value as { message?: unknown }).message === "string" &&
    typeof (value as { name?: unknown }).name === "string" &&
    typeof (value as { stack?: unknown }).stack === "string";
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function cloneableOrText(value: unknown): unknown {
  if (
    value === null ||
    ["string", "number", "boolean", "undefined", "bigint"].includes(
      typeof value,
    )
  ) {
    return value;
  }
  if (typeof value === "function" || typeof value === "symbol") {
    return String(value);
  }
  try {
    structuredClone(value);
    return value;
  } catch {
    return describe(value);
  }
}
