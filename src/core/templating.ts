// Portable: no runtime APIs.
/**
 * Prefect's templating (`prefect.utilities.templating`) with JavaScript text conventions:
 * {@linkcode findPlaceholders}, {@linkcode getFromDict}, {@linkcode applyValues} and
 * {@linkcode NotSet}.
 *
 * @module
 */

import type { WarningLogger } from "../types.ts";
import {
  FALL_THROUGH,
  isPlainObject,
  NotSet,
  type Placeholder,
  type PlaceholderType,
  scanPlaceholders,
  substitute,
  toText,
} from "./_substitute.ts";

export { NotSet };
export type { Placeholder, PlaceholderType };

/**
 * Finds every distinct placeholder in a template: strings, and the values (never the keys)
 * of mappings and lists, recursively. A placeholder is `{{ name }}` with a name of letters,
 * digits, `_`, `.`, `-`, `[`, `]` and `$`; its type is `block_document`
 * (`prefect.blocks.` or `stepbox.blocks.`), `variable` (`prefect.variables.` or
 * `stepbox.variables.`), `env_var` (`$NAME`) or `standard`.
 *
 * @param template A string, number, boolean, list or mapping.
 * @returns The distinct placeholders, in the order they first appear.
 * @throws {TypeError} when the template holds anything else (`null` included, as in Prefect)
 *
 * @example Finding placeholders
 * ```ts
 * import assert from "node:assert/strict";
 * import { findPlaceholders } from "./templating.ts";
 *
 * assert.deepEqual(findPlaceholders({ a: "Hi {{ name }}", b: ["{{ $HOME }}"] }), [
 *   { fullMatch: "{{ name }}", name: "name", type: "standard" },
 *   { fullMatch: "{{ $HOME }}", name: "$HOME", type: "env_var" },
 * ]);
 * ```
 */
export function findPlaceholders(template: unknown): Placeholder[] {
  const found = new Map<string, Placeholder>();
  const ancestors = new Set<object>();
  function walk(value: unknown, where: string): void {
    if (typeof value === "string") {
      for (const { placeholder } of scanPlaceholders(value)) {
        if (!found.has(placeholder.fullMatch)) {
          found.set(placeholder.fullMatch, placeholder);
        }
      }
      return;
    }
    if (typeof value === "number" || typeof value === "boolean") return;
    if (
      (Array.isArray(value) || isPlainObject(value)) && !ancestors.has(value)
    ) {
      ancestors.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => walk(item, `${where}[${i}]`));
      } else {
        for (const key of Object.keys(value)) {
          walk(value[key], where === "" ? key : `${where}.${key}`);
        }
      }
      ancestors.delete(value);
      return;
    }
    const type = value === null
      ? "null"
      : Array.isArray(value) || isPlainObject(value)
      ? "cyclic value"
      : typeof value;
    throw new TypeError(
      `Unexpected type: ${type} at ${
        where === "" ? "the template" : `"${where}"`
      }; a template holds only strings, numbers, booleans, lists and mappings`,
    );
  }
  walk(template, "");
  return [...found.values()];
}

// Prefect converts every segment that parses as an int (surrounding whitespace, a sign and
// underscores between digits allowed, as Python's int() does).
const INTEGER_SEGMENT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

/**
 * Looks a key path up in nested mappings and lists (Prefect's `get_from_dict`): `a.b[0].c`,
 * `a.b.0.c` or a list of keys. Segments that look like integers index lists (negative ones
 * from the end) and strings, and never match mapping keys; other segments match only own
 * keys of mappings.
 *
 * @param data Where to look.
 * @param keyPath `a.b[0].c`, or the segments as a list.
 * @param fallback Returned when the path misses.
 * @returns The value found, or `fallback`.
 *
 * @example Key paths
 * ```ts
 * import assert from "node:assert/strict";
 * import { getFromDict, NotSet } from "./templating.ts";
 *
 * const data = { a: { b: [{ c: 1 }, { c: 2 }] } };
 * assert.equal(getFromDict(data, "a.b[1].c"), 2);
 * assert.equal(getFromDict(data, "a.b[-1].c"), 2);
 * assert.equal(getFromDict(data, "a.x", "fallback"), "fallback");
 * assert.equal(getFromDict(data, "a.x"), NotSet);
 * ```
 */
export function getFromDict(
  data: unknown,
  keyPath: string | readonly (string | number)[],
  fallback: unknown = NotSet,
): unknown {
  const keys = typeof keyPath === "string"
    ? keyPath.replaceAll("[", ".").replaceAll("]", "").split(".")
    : keyPath;
  let current: unknown = data;
  for (const rawKey of keys) {
    const key = typeof rawKey === "string" && INTEGER_SEGMENT.test(rawKey)
      ? Number(rawKey.replaceAll("_", "").trim())
      : rawKey;
    if (typeof key === "number") {
      if (!Number.isInteger(key)) return fallback;
      if (Array.isArray(current) || typeof current === "string") {
        const index = key < 0 ? current.length + key : key;
        if (index < 0 || index >= current.length) return fallback;
        current = current[index];
        continue;
      }
      return fallback;
    }
    if (
      typeof current === "object" && current !== null &&
      !Array.isArray(current) && Object.hasOwn(current, key)
    ) {
      current = (current as Record<string, unknown>)[key];
      continue;
    }
    return fallback;
  }
  return current;
}

/** Options of {@linkcode applyValues}. */
export interface ApplyValuesOptions {
  /** Drop mapping keys whose value resolves to NotSet, and empty missing inline placeholders. @default true */
  removeNotset?: boolean;
  /** Report each missing placeholder through `warn`. @default false */
  warnOnNotset?: boolean;
  /** Placeholders whose names start with one of these are left as written. @default [] */
  skipPrefixes?: readonly string[];
  /** Receives the warnings of `warnOnNotset`. @default none */
  warn?: WarningLogger;
  /** The environment `{{ $NAME }}` reads; the real process environment is never read. @default {} */
  env?: Readonly<Record<string, string>>;
}

/**
 * The warning for a missing placeholder.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingPlaceholderWarning } from "./templating.ts";
 * assert.match(missingPlaceholderWarning("{{ x }}"), /^Value for placeholder "\{\{ x \}\}" not found/);
 * ```
 */
export function missingPlaceholderWarning(fullMatch: string): string {
  return `Value for placeholder "${fullMatch}" not found in provided values; check its spelling and that an earlier step or a --set value provides it`;
}

/**
 * Fills standard placeholders from `values` and `{{ $NAME }}` placeholders from `env`
 * (Prefect's `apply_values`). A string that is exactly one standard placeholder becomes the
 * value itself, its type kept; elsewhere values are written as text (`String()`, objects and
 * lists as compact JSON). A missing value is NotSet: its list item is dropped, its mapping key
 * dropped (unless `removeNotset: false`), its inline text emptied. Block and variable
 * placeholders are left alone. Inserted text is never scanned again. The template is never
 * mutated. Time is linear in the template's size.
 *
 * @param template Any JSON-like value.
 * @param values Where standard placeholders are looked up (key paths allowed).
 * @param options Removal, warnings, skipped prefixes and the environment.
 * @returns The filled template, or NotSet for a string that is one missing placeholder.
 * @throws {TypeError} when the template holds a value that is not data, or is cyclic
 *
 * @example Filling a template
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyValues } from "./templating.ts";
 *
 * const filled = applyValues(
 *   { image: "{{ build.image }}", tag: "v{{ version }}", home: "{{ $HOME }}", gone: "{{ x }}" },
 *   { build: { image: { name: "app" } }, version: 2 },
 *   { env: { HOME: "/home/me" } },
 * );
 * assert.deepEqual(filled, { image: { name: "app" }, tag: "v2", home: "/home/me" });
 * ```
 *
 * @example Warnings through a hook
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyValues } from "./templating.ts";
 *
 * const warnings: string[] = [];
 * applyValues("{{ a }}-{{ b }}", {}, { warnOnNotset: true, warn: (m) => warnings.push(m) });
 * assert.equal(warnings.length, 2);
 * ```
 */
export function applyValues(
  template: unknown,
  values: unknown,
  options: ApplyValuesOptions = {},
): unknown {
  const removeNotset = options.removeNotset ?? true;
  const skipPrefixes = options.skipPrefixes ?? [];
  const env = options.env ?? {};
  const warn = options.warnOnNotset === true ? options.warn : undefined;
  const skipped = (name: string) =>
    skipPrefixes.some((prefix) => name.startsWith(prefix));

  return substitute(template, {
    notset: "apply",
    removeNotset,
    whole(placeholder, text) {
      if (placeholder.type !== "standard") return FALL_THROUGH;
      if (skipped(placeholder.name)) return text;
      const value = getFromDict(values, placeholder.name, NotSet);
      if (value === NotSet) warn?.(missingPlaceholderWarning(text));
      return value;
    },
    inline(placeholder) {
      if (skipped(placeholder.name)) return undefined;
      let value: unknown;
      if (placeholder.type === "standard") {
        value = getFromDict(values, placeholder.name, NotSet);
      } else if (placeholder.type === "env_var") {
        const name = placeholder.name.replace(/^\$+/, "");
        value = Object.hasOwn(env, name) ? env[name] : NotSet;
      } else {
        return undefined;
      }
      if (value === NotSet) {
        warn?.(missingPlaceholderWarning(placeholder.fullMatch));
        return removeNotset ? "" : undefined;
      }
      return toText(value);
    },
  });
}
