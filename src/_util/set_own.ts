/**
 * Setting an own data property whatever its key: for code that builds objects from data.
 *
 * @module
 */

/**
 * Sets an own data property. Plain assignment everywhere except the key `__proto__`, which an
 * assignment would turn into a prototype change; `Object.defineProperty` keeps it as data.
 * (Defining every key costs several times the assignment, and the walks call this per key.)
 *
 * @param target The object to set it on.
 * @param key The property's name.
 * @param value Its value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setOwn } from "./set_own.ts";
 * const target: Record<string, unknown> = {};
 * setOwn(target, "__proto__", { polluted: true });
 * assert.equal(Object.getPrototypeOf(target), Object.prototype);
 * assert.deepEqual(Object.keys(target), ["__proto__"]);
 * ```
 */
export function setOwn(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}
