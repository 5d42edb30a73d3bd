// Portable: no runtime APIs.
/**
 * What validating a step's inputs found about their shape, kept for when the step runs: inputs
 * with no placeholder need no substituting walk, and the executor may send JSON data as text
 * without checking it again. Private: never re-exported.
 *
 * @module
 */

/** The shape of a step's inputs. */
export interface InputShape {
  /**
   * True when resolving would give back the inputs themselves: no string holds `{{` and no
   * mapping has a `$ref` key.
   */
  plain: boolean;
  /**
   * True when the inputs are also JSON data that JSON text carries exactly: no NaN, Infinity or
   * -0, and not so self-sharing that the text would be far larger than the value.
   */
  json: boolean;
}

// Keyed by the inputs object a parsed step owns; dropped with it.
const remembered = new WeakMap<object, InputShape>();

/**
 * Remembers the shape found while validating `inputs` (see `parseStep`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recallInputShape, rememberInputShape } from "./_input_shape.ts";
 *
 * const inputs = { name: "ada" };
 * rememberInputShape(inputs, { plain: true, json: true });
 * assert.deepEqual(recallInputShape(inputs), { plain: true, json: true });
 * ```
 */
export function rememberInputShape(inputs: object, shape: InputShape): void {
  remembered.set(inputs, Object.freeze({ ...shape }));
}

/**
 * The shape remembered for `inputs`; for inputs that were never validated, the shape that asks
 * for every walk (nothing is assumed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recallInputShape } from "./_input_shape.ts";
 *
 * assert.deepEqual(recallInputShape({ name: "{{ x }}" }), { plain: false, json: false });
 * ```
 */
export function recallInputShape(inputs: object): InputShape {
  return remembered.get(inputs) ?? UNKNOWN;
}

const UNKNOWN: InputShape = Object.freeze({ plain: false, json: false });
