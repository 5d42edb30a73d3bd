// Portable: no runtime APIs.
/**
 * A private copy of validated plain data, and an exact check that some data still equals it:
 * what lets a run of steps it has already validated reuse their plan instead of parsing them
 * again. The check allocates nothing and walks no further than the copy, so data since grown
 * into a cycle still ends it. Private: never re-exported.
 *
 * @module
 */

// A copied mapping: its prototype (Object.prototype or null), its keys in order and their
// values, and with `sameObjects` the mapping itself.
class CopiedMapping {
  constructor(
    readonly original: object | undefined,
    readonly proto: object | null,
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

// A copied list: its items, and with `sameObjects` the array itself.
class CopiedList {
  constructor(
    readonly original: readonly unknown[] | undefined,
    readonly items: readonly unknown[],
  ) {}
}

/** A copy taken by {@linkcode takeSnapshot}. */
export interface Snapshot {
  readonly root: unknown;
}

/** How {@linkcode matchesSnapshot} is to compare with a copy. */
export interface SnapshotOptions {
  /**
   * Whether only the very same arrays and mappings match, rather than equal ones. For data that
   * something made from it still shares: an equal object put in the place of one it holds
   * would not be what it hands over.
   */
  sameObjects: boolean;
}

// Past this many lists and mappings, data is not copied: a small graph that shares itself at
// every level (a YAML alias of an alias of ...) would be copied once per path.
const COPY_BUDGET = 200_000;

// What `copy` gives for what it does not copy: a function, an instance, or data past the budget.
const UNCOPIED = Symbol("uncopied");

/**
 * Copies `value` (primitives, arrays and mappings whose prototype is `Object.prototype` or
 * `null`), or returns `undefined` when it holds anything else or is too large to copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesSnapshot, takeSnapshot } from "./_snapshot.ts";
 *
 * const steps = [{ "./a.ts#f": { name: "ada", tags: ["x"] } }];
 * const same = takeSnapshot(steps, { sameObjects: true })!;
 * const equal = takeSnapshot(steps, { sameObjects: false })!;
 * assert.equal(matchesSnapshot(steps, same), true);
 * assert.equal(matchesSnapshot(structuredClone(steps), same), false);
 * assert.equal(matchesSnapshot(structuredClone(steps), equal), true);
 * steps[0]!["./a.ts#f"]!.tags.push("y");
 * assert.equal(matchesSnapshot(steps, same), false);
 * assert.equal(takeSnapshot([new Date(0)], { sameObjects: false }), undefined);
 * ```
 */
export function takeSnapshot(
  value: unknown,
  options: SnapshotOptions,
): Snapshot | undefined {
  const { sameObjects } = options;
  let budget = COPY_BUDGET;
  function copy(value: unknown): unknown {
    if (typeof value !== "object" || value === null) {
      return typeof value === "function" ? UNCOPIED : value;
    }
    if (--budget < 0) return UNCOPIED;
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const item = copy(value[i]);
        if (item === UNCOPIED) return UNCOPIED;
        items.push(item);
      }
      return new CopiedList(sameObjects ? value : undefined, items);
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return UNCOPIED;
    const keys: string[] = [];
    const values: unknown[] = [];
    for (const key in value) {
      const item = copy((value as Record<string, unknown>)[key]);
      if (item === UNCOPIED) return UNCOPIED;
      keys.push(key);
      values.push(item);
    }
    return new CopiedMapping(
      sameObjects ? value : undefined,
      proto,
      keys,
      values,
    );
  }
  const root = copy(value);
  return root === UNCOPIED ? undefined : { root };
}

/**
 * Whether `value` still equals the data `snapshot` copied: the same primitives (`Object.is`),
 * the same prototypes, the same keys in the same order, and when the copy was taken with
 * `sameObjects`, the very same arrays and mappings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesSnapshot, takeSnapshot } from "./_snapshot.ts";
 *
 * const snapshot = takeSnapshot({ a: 1, b: -0 }, { sameObjects: false })!;
 * assert.equal(matchesSnapshot({ a: 1, b: -0 }, snapshot), true);
 * assert.equal(matchesSnapshot({ a: 1, b: 0 }, snapshot), false);
 * assert.equal(matchesSnapshot({ b: -0, a: 1 }, snapshot), false);
 * ```
 */
export function matchesSnapshot(value: unknown, snapshot: Snapshot): boolean {
  return matches(value, snapshot.root);
}

function matches(value: unknown, copy: unknown): boolean {
  if (copy instanceof CopiedMapping) {
    if (
      copy.original === undefined
        ? typeof value !== "object" || value === null || Array.isArray(value)
        : value !== copy.original
    ) {
      return false;
    }
    if (Object.getPrototypeOf(value) !== copy.proto) return false;
    const { keys, values } = copy;
    let i = 0;
    for (const key in value as object) {
      if (
        i >= keys.length || key !== keys[i] ||
        !matches((value as Record<string, unknown>)[key], values[i])
      ) {
        return false;
      }
      i++;
    }
    return i === keys.length;
  }
  if (copy instanceof CopiedList) {
    const { items } = copy;
    if (
      (copy.original === undefined
        ? !Array.isArray(value)
        : value !== copy.original) ||
      (value as unknown[]).length !== items.length
    ) {
      return false;
    }
    for (let i = 0; i < items.length; i++) {
      if (!matches((value as unknown[])[i], items[i])) return false;
    }
    return true;
  }
  return Object.is(value, copy);
}
