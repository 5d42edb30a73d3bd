// Portable: no runtime APIs.
/**
 * {@linkcode parseStep}: one step mapping -> its reference, inputs and reserved keywords.
 *
 * @module
 */

import { setOwn } from "../_util/set_own.ts";
import { StepValidationError } from "../errors.ts";
import type { Permissions } from "../types.ts";
import { type InputShape, rememberInputShape } from "./_input_shape.ts";
import { formatPath, isPlainObject } from "./_substitute.ts";
import {
  createValueUsage,
  noteObject,
  noteString,
  type ValueUsage,
} from "./_value_usage.ts";
import { validatePermissions } from "./permissions.ts";

/** The keywords taken out of a step's inputs: Prefect's `id` and `requires`, and stepbox's. */
export const RESERVED_KEYWORDS: readonly string[] = Object.freeze([
  "id",
  "requires",
  "permissions",
  "timeout",
  "retries",
]);

/** A step, parsed and validated. */
export interface ParsedStep {
  /** The step's position in its list (0-based). */
  index: number;
  /** The step reference as written (the mapping's one key). */
  reference: string;
  /** The inputs as written, reserved keywords removed (unresolved templates). */
  inputs: Record<string, unknown>;
  /** The `id` keyword. */
  id?: string;
  /** The `requires` keyword as a list. */
  requires?: readonly string[];
  /** The `permissions` keyword. */
  permissions?: Permissions;
  /** The `timeout` keyword, in seconds. */
  timeout?: number;
  /** The `retries` keyword. */
  retries?: number;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the text ${JSON.stringify(value)}`;
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor
      ?.name;
    return typeof name === "string" && name !== "" && name !== "Object"
      ? `a ${name}`
      : "a mapping";
  }
  return `${typeof value} ${String(value)}`;
}

/** What one walk over a step's inputs found: the first unsupported value, the names used, and
 * the inputs' shape. */
interface InputsReport {
  /** The key path and kind of the first value a step cannot receive, if any. */
  unsupported?: { path: string; found: string };
  /** The blocks and variables the inputs use (see `resolveInputs`). */
  usage: ValueUsage;
  /** Whether resolving can change anything, and whether the inputs are JSON data. */
  shape: InputShape;
}

// Past this many containers the walk visits each one once: a small graph that shares itself at
// every level (a YAML alias of an alias of ...) would otherwise take exponential time.
const CONTAINER_BUDGET = 1_000_000;

function hasInheritedKeys(): boolean {
  for (const _ in {}) return true;
  return false;
}

/**
 * Checks that every input is plain data and, in the same walk, notes the block and variable
 * placeholders (what `_value_usage.ts` would collect) and the inputs' shape, so that running the
 * step needs no further walk to find what to read, or whether anything is to be resolved.
 */
function inspectInputs(inputs: Record<string, unknown>): InputsReport {
  const usage = createValueUsage();
  const shape: InputShape = { plain: true, json: true };
  // The containers being walked, innermost last: a value found here again is a cycle. A list
  // beats a Set at the depths data has; recursion bounds the depth long before it hurts.
  const ancestors: object[] = [];
  // Filled innermost first, only when something is wrong.
  const trail: (string | number)[] = [];
  let budget = CONTAINER_BUDGET;
  const inheritsKeys = hasInheritedKeys();
  // Once over budget: each container walked, and whether its placeholders were noted.
  let walked: Map<object, boolean> | undefined;
  function walk(value: unknown, collect: boolean): string | undefined {
    switch (typeof value) {
      case "string":
        if (value.includes("{{")) {
          shape.plain = false;
          if (collect) noteString(usage, value);
        }
        return undefined;
      case "number":
        // JSON has no NaN or Infinity, and writes -0 as 0.
        if (!Number.isFinite(value) || Object.is(value, -0)) shape.json = false;
        return undefined;
      case "boolean":
        return undefined;
      case "undefined":
        return "undefined";
      case "function":
        return "a function";
      case "symbol":
        return "a symbol";
      case "bigint":
        return "a bigint";
    }
    if (value === null) return undefined;
    const object = value as object;
    if (ancestors.includes(object)) {
      return "a cycle (it contains one of its own parents)";
    }
    if (--budget < 0) {
      // JSON text would repeat what is shared; structured clone keeps it once.
      shape.json = false;
      walked ??= new Map();
      const noted = walked.get(object);
      if (noted === true || (noted === false && !collect)) return undefined;
      walked.set(object, collect);
    }
    if (Array.isArray(object)) {
      ancestors.push(object);
      for (let i = 0; i < object.length; i++) {
        const found = walk(object[i], collect);
        if (found !== undefined) {
          trail.push(i);
          return found;
        }
      }
      ancestors.pop();
      return undefined;
    }
    if (isPlainObject(object)) {
      // A `$ref` object is replaced whole by its block's data: nothing in it is a placeholder.
      // Read first, own-checked only when present: Object.hasOwn on every mapping was a quarter
      // of this walk.
      const hasRef = (object as { $ref?: unknown }).$ref !== undefined &&
        Object.hasOwn(object, "$ref");
      if (hasRef) shape.plain = false;
      const inner = collect && !(hasRef && noteObject(usage, object));
      ancestors.push(object);
      // for-in allocates no key list; it also lists inherited enumerable keys, which only a
      // tampered Object.prototype has, so those are skipped then.
      for (const key in object) {
        if (inheritsKeys && !Object.hasOwn(object, key)) continue;
        const found = walk(object[key], inner);
        if (found !== undefined) {
          trail.push(key);
          return found;
        }
      }
      ancestors.pop();
      return undefined;
    }
    return describe(value);
  }
  const found = walk(inputs, true);
  if (found === undefined) return { usage, shape };
  return {
    unsupported: { path: formatPath(trail.reverse()), found },
    usage,
    shape,
  };
}

/**
 * Parses one step: a mapping with exactly one key, the step reference, whose value is the
 * mapping of inputs. The reserved keywords `id`, `requires`, `permissions`, `timeout` and
 * `retries` are taken out of the inputs and checked; only the top level is reserved. Inputs
 * must be plain data (strings, numbers, booleans, null, lists, mappings).
 *
 * @param step The step as written.
 * @param index Its position in its list, for messages.
 * @returns The parsed step, or `undefined` for an empty step (`{}` or `null`), which is skipped.
 * @throws {StepValidationError} for anything malformed, naming the step index and reference
 *
 * @example Parsing a step
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStep } from "./parse_step.ts";
 *
 * const parsed = parseStep({ "./steps.ts#build": { id: "build", requires: "slugify@1", name: "{{ x }}" } }, 0);
 * assert.deepEqual(parsed, {
 *   index: 0,
 *   reference: "./steps.ts#build",
 *   inputs: { name: "{{ x }}" },
 *   id: "build",
 *   requires: ["slugify@1"],
 * });
 * assert.equal(parseStep({}, 1), undefined);
 * assert.throws(() => parseStep({ "a.b": {}, "c.d": {} }, 2), /Step has unexpected additional keys: c.d/);
 * ```
 */
export function parseStep(
  step: unknown,
  index: number = 0,
): ParsedStep | undefined {
  if (step === null || step === undefined) return undefined;
  if (!isPlainObject(step)) {
    throw new StepValidationError(
      `Cannot parse step ${index}: expected a mapping with one key (the step reference), found ${
        describe(step)
      }; write it as "<reference>: { <inputs> }"`,
      { stepIndex: index },
    );
  }
  const keys = Object.keys(step);
  const reference = keys[0];
  if (reference === undefined) return undefined;
  const where = { stepIndex: index, reference };
  const name = `step ${index} "${reference}"`;
  if (keys.length > 1) {
    throw new StepValidationError(
      `Step has unexpected additional keys: ${
        keys.slice(1).join(", ")
      } (${name}); a step is a mapping with exactly one key, the step reference, so indent the other keys under it as inputs or make them separate steps`,
      where,
    );
  }
  if (reference.trim() === "" || /\s/.test(reference)) {
    throw new StepValidationError(
      `Cannot parse step ${index}: the step reference ${
        JSON.stringify(reference)
      } must be a non-empty name without spaces, such as "prefect.deployments.steps.run_shell_script" or "./steps.ts#build"`,
      where,
    );
  }
  const body = step[reference];
  if (!isPlainObject(body)) {
    throw new StepValidationError(
      `Cannot parse ${name}: its inputs must be a mapping, found ${
        describe(body)
      }; write "${reference}: {}" for a step without inputs`,
      where,
    );
  }
  const parsed: ParsedStep = { index, reference, inputs: {} };
  for (const key of Object.keys(body)) {
    const value = body[key];
    switch (key) {
      case "id":
        if (typeof value !== "string") {
          throw new StepValidationError(
            `Cannot parse ${name}: "id" must be a string, found ${
              describe(value)
            }; quote it, e.g. id: "build"`,
            where,
          );
        }
        parsed.id = value;
        break;
      case "requires":
        parsed.requires = parseRequires(value, name, where);
        break;
      case "permissions":
        parsed.permissions = validatePermissions(value, where);
        break;
      case "timeout":
        if (
          typeof value !== "number" || !Number.isFinite(value) || value <= 0
        ) {
          throw new StepValidationError(
            `Cannot parse ${name}: "timeout" must be a positive number of seconds, found ${
              describe(value)
            }; e.g. timeout: 30`,
            where,
          );
        }
        parsed.timeout = value;
        break;
      case "retries":
        if (
          typeof value !== "number" || !Number.isInteger(value) || value < 0
        ) {
          throw new StepValidationError(
            `Cannot parse ${name}: "retries" must be a whole number of at least 0, found ${
              describe(value)
            }; e.g. retries: 2`,
            where,
          );
        }
        parsed.retries = value;
        break;
      default:
        setOwn(parsed.inputs, key, value);
    }
  }
  const { unsupported, usage, shape } = inspectInputs(parsed.inputs);
  if (unsupported !== undefined) {
    throw new StepValidationError(
      `Cannot parse ${name}: input "${unsupported.path}" is ${unsupported.found}, which a step cannot receive; inputs must be plain data (strings, numbers, booleans, null, lists, mappings), so convert it (a Date to an ISO string, for example)`,
      where,
    );
  }
  rememberInputShape(parsed.inputs, { ...shape, usage });
  return parsed;
}

function parseRequires(
  value: unknown,
  name: string,
  where: { stepIndex: number; reference: string },
): readonly string[] {
  const list = typeof value === "string" ? [value] : value;
  if (
    !Array.isArray(list) ||
    !list.every((item) => typeof item === "string" && item.trim() !== "")
  ) {
    throw new StepValidationError(
      `Cannot parse ${name}: "requires" must be a package or a list of packages, found ${
        describe(value)
      }; e.g. requires: "slugify@^1.6" or requires: ["npm:slugify@1.6.6"]`,
      where,
    );
  }
  return Object.freeze(list.map((item: string) => item.trim()));
}
