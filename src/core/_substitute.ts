// Portable: no runtime APIs.
/**
 * The single-walk substitution engine behind `applyValues`, `resolveBlockReferences`,
 * `resolveVariables` and the step input resolution. Private: never re-exported.
 *
 * Every string is scanned once with one regular expression and rebuilt from an array of
 * parts joined at the end, so the cost is linear in the size of the template. What a
 * replacement inserts is never scanned again.
 *
 * @module
 */

import { setOwn } from "../_util/set_own.ts";

/** The kinds of placeholder, with Prefect's names. */
export type PlaceholderType =
  | "standard"
  | "block_document"
  | "variable"
  | "env_var";

/** One placeholder found in a string. */
export interface Placeholder {
  /** The whole placeholder text, braces included: `{{ name }}`. */
  fullMatch: string;
  /** The name inside the braces: `name`. */
  name: string;
  /** What the name refers to. */
  type: PlaceholderType;
}

/** Block placeholder prefixes: Prefect's and stepbox's alias. */
export const BLOCK_PREFIXES: readonly string[] = Object.freeze([
  "prefect.blocks.",
  "stepbox.blocks.",
]);
/** Variable placeholder prefixes: Prefect's and stepbox's alias. */
export const VARIABLE_PREFIXES: readonly string[] = Object.freeze([
  "prefect.variables.",
  "stepbox.variables.",
]);

// Python's `\w` is Unicode-aware, so letters and digits of any script count.
const PLACEHOLDER_PATTERN = /\{\{\s*([\p{L}\p{N}_.\-\[\]$]+)\s*\}\}/gu;

/** The type of a placeholder name (Prefect's `determine_placeholder_type`). */
export function placeholderType(name: string): PlaceholderType {
  if (BLOCK_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return "block_document";
  }
  if (VARIABLE_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return "variable";
  }
  if (name.startsWith("$")) return "env_var";
  return "standard";
}

/** The prefix a block or variable name starts with, or `undefined`. */
export function matchingPrefix(
  name: string,
  prefixes: readonly string[],
): string | undefined {
  return prefixes.find((prefix) => name.startsWith(prefix));
}

/** One occurrence of a placeholder in a string. */
export interface PlaceholderMatch {
  start: number;
  end: number;
  placeholder: Placeholder;
}

/** Every placeholder occurrence in `text`, in order; one pass over the text. */
export function scanPlaceholders(text: string): PlaceholderMatch[] {
  const found: PlaceholderMatch[] = [];
  if (!text.includes("{{")) return found;
  for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
    const fullMatch = match[0];
    const name = match[1] ?? "";
    found.push({
      start: match.index,
      end: match.index + fullMatch.length,
      placeholder: { fullMatch, name, type: placeholderType(name) },
    });
  }
  return found;
}

// A class instance rather than a plain object, so that no walker mistakes it for a mapping.
class NotSetType {
  toString(): string {
    return "NotSet";
  }
}

/** Prefect's `NotSet` sentinel: a value that is missing. */
export const NotSet: Readonly<{ toString(): string }> = Object.freeze(
  new NotSetType(),
);

/** Whether `value` is the {@linkcode NotSet} sentinel. */
export function isNotSet(value: unknown): boolean {
  return value === NotSet;
}

/** Returned by a rule hook to say "handle this the ordinary way". */
export const FALL_THROUGH: unique symbol = Symbol("fall through");

/** How a walk treats each placeholder and object. */
export interface SubstituteRules {
  /**
   * A string that is exactly one placeholder: its replacement value (any type), `NotSet`,
   * or `FALL_THROUGH` to substitute it as text like any other string.
   */
  whole(placeholder: Placeholder, text: string): unknown;
  /** The text for a placeholder inside a string, or `undefined` to leave it as written. */
  inline(placeholder: Placeholder): string | undefined;
  /** An object's replacement (e.g. a `$ref`), or `FALL_THROUGH` to walk into it. */
  object?(value: Record<string, unknown>): unknown;
  /**
   * `"apply"`: Prefect's `apply_values` handling of NotSet results (list items always dropped,
   * object keys dropped when `removeNotset`, else the key keeps its template value);
   * `"keep"`: keep everything (Prefect's `resolve_*` functions).
   */
  notset: "apply" | "keep";
  /** Used with `notset: "apply"`. */
  removeNotset: boolean;
  /**
   * Return a list or mapping in which nothing changed as it is instead of copying it, so that
   * the result shares those parts with the template (and costs a walk, not a copy). For
   * results that are only read, such as inputs handed to an executor, which copies them.
   */
  share?: boolean;
}

/** Whether `value` is a plain object (a mapping), not a class instance or array. */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The text of a value substituted into a string (JavaScript conventions). */
export function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === NotSet) return "";
  if (typeof value === "object" && value !== null) {
    return JSON.stringify(value) ?? "";
  }
  return String(value);
}

/** The name of a value's type for messages. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor
      ?.name;
    return typeof name === "string" && name !== "" ? name : "object";
  }
  return typeof value;
}

/** Formats a key path from its segments: `a.b[0]["odd key"]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  const parts: string[] = [];
  for (const segment of segments) {
    if (typeof segment === "number") parts.push(`[${segment}]`);
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) {
      parts.push(parts.length === 0 ? segment : `.${segment}`);
    } else parts.push(`[${JSON.stringify(segment)}]`);
  }
  return parts.join("");
}

/** Substitutes one string: one scan, parts joined once. */
function substituteString(text: string, rules: SubstituteRules): unknown {
  const matches = scanPlaceholders(text);
  if (matches.length === 0) return text;
  const first = matches[0];
  if (
    matches.length === 1 && first !== undefined && first.start === 0 &&
    first.end === text.length
  ) {
    const value = rules.whole(first.placeholder, text);
    if (value !== FALL_THROUGH) return value;
  }
  // The same placeholder text always gets the same replacement (Prefect replaces every
  // occurrence at once), and each is resolved once.
  const replacements = new Map<string, string | undefined>();
  const parts: string[] = [];
  let last = 0;
  let changed = false;
  for (const { start, end, placeholder } of matches) {
    let replacement: string | undefined;
    if (replacements.has(placeholder.fullMatch)) {
      replacement = replacements.get(placeholder.fullMatch);
    } else {
      replacement = rules.inline(placeholder);
      replacements.set(placeholder.fullMatch, replacement);
    }
    if (replacement === undefined) continue;
    parts.push(text.slice(last, start), replacement);
    last = end;
    changed = true;
  }
  if (!changed) return text;
  parts.push(text.slice(last));
  return parts.join("");
}

/**
 * Walks `template`, substituting placeholders in every string (object keys are never
 * templated), and returns a new value (with `share`, unchanged parts are the template's own);
 * the template is never mutated.
 *
 * @throws {TypeError} when the template holds a value that is not data (a function, a Date, ...) or is cyclic
 */
export function substitute(template: unknown, rules: SubstituteRules): unknown {
  const share = rules.share === true;
  const path: (string | number)[] = [];
  // The containers being walked, innermost last (a list beats a Set at the depths data has).
  const ancestors: object[] = [];

  function walk(value: unknown): unknown {
    if (typeof value === "string") return substituteString(value, rules);
    if (
      value === null || value === undefined || value === NotSet ||
      typeof value === "number" || typeof value === "boolean"
    ) {
      return value;
    }
    if (Array.isArray(value)) {
      enter(value);
      const result = share ? shareList(value) : copyList(value);
      ancestors.pop();
      return result;
    }
    if (isPlainObject(value)) {
      if (rules.object !== undefined) {
        const replaced = rules.object(value);
        if (replaced !== FALL_THROUGH) return replaced;
      }
      enter(value);
      const result = share ? shareMapping(value) : copyMapping(value);
      ancestors.pop();
      return result;
    }
    const where = path.length === 0 ? "the template" : `"${formatPath(path)}"`;
    throw new TypeError(
      `Unexpected template type "${
        describeType(value)
      }" at ${where}: templates hold only strings, numbers, booleans, null, lists and mappings; convert the value to one of those (a Date to an ISO string, for example)`,
    );
  }

  function copyList(value: unknown[]): unknown[] {
    const result: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const item = walk(value[i]);
      path.pop();
      if (item === NotSet && rules.notset === "apply") continue;
      result.push(item);
    }
    return result;
  }

  // Stays the template's own list until an item changes; then copies the items before it.
  function shareList(value: unknown[]): unknown[] {
    let result: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const original = value[i];
      path.push(i);
      const item = walk(original);
      path.pop();
      const dropped = item === NotSet && rules.notset === "apply";
      if (result === undefined) {
        if (item === original && !dropped) continue;
        result = value.slice(0, i);
      }
      if (!dropped) result.push(item);
    }
    return result ?? value;
  }

  function copyMapping(
    value: Record<string, unknown>,
  ): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const original = value[key];
      path.push(key);
      const item = walk(original);
      path.pop();
      if (item === NotSet && rules.notset === "apply") {
        if (!rules.removeNotset) setOwn(result, key, original);
        continue;
      }
      setOwn(result, key, item);
    }
    return result;
  }

  // Stays the template's own mapping until a value changes; then copies the keys before it.
  function shareMapping(
    value: Record<string, unknown>,
  ): Record<string, unknown> {
    const keys = Object.keys(value);
    let result: Record<string, unknown> | undefined;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      const original = value[key];
      path.push(key);
      let item = walk(original);
      path.pop();
      let dropped = false;
      if (item === NotSet && rules.notset === "apply") {
        if (rules.removeNotset) dropped = true;
        else item = original;
      }
      if (result === undefined) {
        if (item === original && !dropped) continue;
        result = {};
        for (let j = 0; j < k; j++) {
          const before = keys[j] as string;
          setOwn(result, before, value[before]);
        }
      }
      if (!dropped) setOwn(result, key, item);
    }
    return result ?? value;
  }

  function enter(value: object): void {
    if (ancestors.includes(value)) {
      throw new TypeError(
        `Cannot template a cyclic value: "${
          formatPath(path)
        }" refers back to one of its parents; pass data without cycles`,
      );
    }
    ancestors.push(value);
  }

  return walk(template);
}

/** Calls `visit` for every string in `template` (object keys excluded), skipping objects `skip` accepts. */
export function forEachString(
  template: unknown,
  visit: (text: string) => void,
  skip?: (value: Record<string, unknown>) => boolean,
): void {
  const ancestors: object[] = [];
  function walk(value: unknown): void {
    if (typeof value === "string") {
      visit(value);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    if (ancestors.includes(value)) return;
    if (Array.isArray(value)) {
      ancestors.push(value);
      for (const item of value) walk(item);
      ancestors.pop();
      return;
    }
    if (!isPlainObject(value)) return;
    if (skip !== undefined && skip(value)) return;
    ancestors.push(value);
    for (const key of Object.keys(value)) walk(value[key]);
    ancestors.pop();
  }
  walk(template);
}
