// Portable: no runtime APIs.
/**
 * What validating a step's inputs found about them, kept for when the step runs: inputs with no
 * placeholder need no substituting walk, the executor may send JSON data as text without
 * checking it again, and the resolution reads the blocks and variables the walk found. Private:
 * never re-exported.
 *
 * @module
 */

import type { ValueUsage } from "./_value_usage.ts";

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
  /**
   * The blocks, variables and `$ref`s the inputs use. A hint: nested values are the caller's and
   * may have changed since, so whoever uses it must notice a name it lacks.
   */
  usage?: ValueUsage;
}

// Kept on the inputs object a parsed step owns, under a symbol no copy carries (spread, JSON,
// structured clone and Object.keys all skip it). Not a WeakMap: with one, V8's young-generation
// collections went on copying the shapes of runs long over (with runs in a loop: 1.8 MB and a
// 2.6 ms pause per scavenge, against 0.2 MB and 0.5 ms now).
const SHAPE: unique symbol = Symbol("stepbox.inputShape");

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
  Object.defineProperty(inputs, SHAPE, {
    value: Object.freeze({ ...shape }),
    configurable: true,
  });
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
export function recallInputShape(inputs: unknown): InputShape {
  return (typeof inputs === "object" && inputs !== null &&
      Object.hasOwn(inputs, SHAPE)
    ? (inputs as { [SHAPE]: InputShape })[SHAPE]
    : undefined) ?? UNKNOWN;
}

const UNKNOWN: InputShape = Object.freeze({ plain: false, json: false });
