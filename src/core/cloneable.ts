// Portable: no runtime APIs.
/**
 * Finds the first value that structured clone cannot copy, so that an error can name its
 * key path instead of the runtime's bare `DataCloneError`.
 *
 * @module
 */

/**
 * Returns the key path of the first value in `value` that structured clone rejects (a
 * function, a symbol, a WeakMap, a Promise, a stream...), or `undefined` when all of it can be
 * cloned. The root itself is the empty path `""`. Keys that are not identifiers are written in
 * brackets (`a["x-y"]`), array items as `[i]`, Map values as `<get key>`.
 *
 * @param value The value to check.
 * @returns The key path, or `undefined`.
 *
 * @example A function nested in an output
 * ```ts
 * import assert from "node:assert/strict";
 * import { findUncloneable } from "./cloneable.ts";
 * assert.equal(findUncloneable({ result: { items: [1, { handler() {} }] } }), "result.items[1].handler");
 * assert.equal(findUncloneable({ when: new Date(), data: new Uint8Array(2) }), undefined);
 * assert.equal(findUncloneable(() => 1), "");
 * ```
 */
export function findUncloneable(value: unknown): string | undefined {
  return walk(value, "", new Set());
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function join(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function walk(
  value: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  const type = typeof value;
  if (type === "function" || type === "symbol") return path;
  if (value === null || type !== "object") return undefined;
  const object = value as object;
  if (seen.has(object)) return undefined;
  seen.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const found = walk(object[i], `${path}[${i}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (object instanceof Map) {
    for (const [key, item] of object) {
      const label = typeof key === "string" ? key : String(key);
      const found = walk(key, `${path}<key ${label}>`, seen) ??
        walk(item, `${path}<get ${label}>`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (object instanceof Set) {
    let i = 0;
    for (const item of object) {
      const found = walk(item, `${path}<item ${i++}>`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (
    object instanceof Date || object instanceof RegExp ||
    object instanceof ArrayBuffer || ArrayBuffer.isView(object) ||
    object instanceof Boolean || object instanceof Number ||
    object instanceof String
  ) {
    return undefined;
  }
  if (
    object instanceof WeakMap || object instanceof WeakSet ||
    object instanceof Promise || object instanceof WeakRef
  ) {
    return path;
  }
  const proto = Object.getPrototypeOf(object);
  for (const key of Object.keys(object)) {
    const found = walk(
      (object as Record<string, unknown>)[key],
      join(path, key),
      seen,
    );
    if (found !== undefined) return found;
  }
  if (
    proto !== Object.prototype && proto !== null && !(object instanceof Error)
  ) {
    // A class instance clones as a plain object, but a host object (a stream, a socket)
    // does not; only the runtime knows which is which.
    try {
      structuredClone(object);
    } catch {
      return path;
    }
  }
  return undefined;
}
