/**
 * JSON text that does not depend on the order in which an object's keys were added: for keys
 * that say "the same configuration" however it was built.
 *
 * @module
 */

/**
 * `JSON.stringify(value)` with every object's keys sorted, at every depth; arrays keep their
 * order.
 *
 * @param value Plain data.
 * @returns Its JSON text, keys sorted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stableJson } from "./stable_json.ts";
 * assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: 3 } }), '{"a":{"c":3,"d":[2,1]},"b":1}');
 * ```
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) =>
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? Object.fromEntries(
          Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
        : item,
  );
}
