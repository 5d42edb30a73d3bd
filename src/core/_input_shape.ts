// Portable: no runtime APIs.
/**
 * One quick walk over a step's inputs just before they are resolved: whether resolving could
 * change anything at all, and whether they are plain JSON data. Inputs with no placeholder need
 * no substituting walk, and the executor may then send JSON data as text without checking it
 * again. Private: never re-exported.
 *
 * @module
 */

/** What {@linkcode inspectInputShape} found. */
export interface InputShape {
  /**
   * True when resolving would give back the inputs themselves: no string holds `{{`, no
   * mapping is a `$ref`, no object is reached twice, and nothing is of a kind the resolver
   * reports (a Date, a Map, ...).
   */
  plain: boolean;
  /**
   * True when the inputs are also JSON data: plain objects and arrays, strings, finite numbers,
   * booleans and null, no undefined. Only meaningful when `plain` is true, which also rules
   * out a shared object (JSON text would duplicate it where structured clone keeps one).
   */
  json: boolean;
}

/**
 * Walks `inputs` once and says whether they are plain (nothing to resolve) and JSON data.
 * The walk stops at the first sign that they are not plain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectInputShape } from "./_input_shape.ts";
 *
 * assert.deepEqual(inspectInputShape({ a: [1, "x"] }), { plain: true, json: true });
 * assert.equal(inspectInputShape({ a: "{{ x }}" }).plain, false);
 * const shared = { k: 1 };
 * assert.equal(inspectInputShape({ a: shared, b: shared }).plain, false);
 * assert.deepEqual(inspectInputShape({ n: Number.NaN }), { plain: true, json: false });
 * ```
 */
export function inspectInputShape(inputs: unknown): InputShape {
  const shape: InputShape = { plain: true, json: true };
  // Every object met so far.
  const seen = new Set<object>();
  function walk(value: unknown): boolean {
    switch (typeof value) {
      case "string":
        return !value.includes("{{");
      case "boolean":
        return true;
      case "number":
        if (!Number.isFinite(value)) shape.json = false;
        return true;
      case "undefined":
        shape.json = false;
        return true;
      case "object":
        break;
      default:
        return false;
    }
    if (value === null) return true;
    // One Set operation (add, then see whether the size grew) instead of has + add. An object
    // reached twice is shared or a cycle: the resolver's walk keeps the one and reports the
    // other.
    const before = seen.size;
    seen.add(value);
    if (seen.size === before) return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!walk(value[i])) return false;
      }
      return true;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    // Any `$ref` key, even one the resolver leaves alone: let it decide.
    if (Object.hasOwn(value, "$ref")) return false;
    for (const key in value) {
      if (!walk((value as Record<string, unknown>)[key])) return false;
    }
    return true;
  }
  if (!walk(inputs)) shape.plain = false;
  return shape;
}
