/**
 * Up-front checks of a built-in step's inputs, with errors that name the step, the input and the fix.
 *
 * @module
 */

/** The kinds of value a built-in input accepts. */
export type InputKind =
  | "string"
  | "boolean"
  | "environment"
  | "string list"
  | "mapping";

/** The accepted inputs of a step: name -> kind. */
export type InputSpec = Readonly<Record<string, InputKind>>;

/** Options of {@linkcode checkInputs}. */
export interface CheckInputsOptions {
  /** Inputs that must be present (an empty string counts as missing). @default [] */
  required?: readonly string[];
  /** Accept inputs not in the spec (for `**settings`). @default false */
  allowOthers?: boolean;
}

/**
 * Describes the type of `value` for an error message, without showing the value (it may be secret).
 *
 * @param value Any value.
 * @returns Text such as `a string` or `a mapping`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeType } from "./_inputs.ts";
 * assert.equal(describeType([1]), "a list");
 * assert.equal(describeType({}), "a mapping");
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "a mapping";
    default:
      return `a ${typeof value}`;
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const EXPECTED: Readonly<Record<InputKind, string>> = {
  string: "a string",
  boolean: "a boolean",
  environment: "a mapping of names to strings",
  "string list": "a string or a list of strings",
  mapping: "a mapping",
};

function hint(kind: InputKind, value: unknown): string {
  if (kind === "boolean" && (value === "true" || value === "false")) {
    return `write ${value} without quotes`;
  }
  if (kind === "string" && typeof value === "number") {
    return "quote the value";
  }
  return `give it ${EXPECTED[kind]}`;
}

function checkValue(
  step: string,
  name: string,
  kind: InputKind,
  value: unknown,
): void {
  let ok: boolean;
  switch (kind) {
    case "string":
      ok = typeof value === "string";
      break;
    case "boolean":
      ok = typeof value === "boolean";
      break;
    case "mapping":
      ok = isMapping(value);
      break;
    case "string list":
      ok = typeof value === "string" ||
        (Array.isArray(value) && value.every((v) => typeof v === "string"));
      break;
    case "environment": {
      ok = isMapping(value);
      if (ok) {
        for (const [key, item] of Object.entries(value as object)) {
          if (
            typeof item !== "string" &&
            !(typeof item === "number" && Number.isFinite(item))
          ) {
            throw new TypeError(
              `Cannot run ${step}: input "${name}" must map names to strings, found ${
                describeType(item)
              } for "${key}"; quote the value`,
            );
          }
        }
      }
      break;
    }
  }
  if (!ok) {
    throw new TypeError(
      `Cannot run ${step}: input "${name}" must be ${EXPECTED[kind]}, found ${
        describeType(value)
      }; ${hint(kind, value)}`,
    );
  }
}

/**
 * Checks a built-in step's inputs before it does any work: the inputs form a mapping, every
 * required input is present, no unknown input is given, and each value has its kind.
 * A `null` or absent optional input counts as not given.
 *
 * @param step The step's name, used in messages.
 * @param inputs The inputs the step was called with.
 * @param spec The accepted inputs and their kinds.
 * @param options Required inputs and whether others are accepted.
 * @returns The inputs, with `null` values removed.
 * @throws {TypeError} when an input is missing, unknown or of the wrong kind.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInputs } from "./_inputs.ts";
 * assert.throws(
 *   () => checkInputs("git_clone", {}, { repository: "string" }, { required: ["repository"] }),
 *   /input "repository" is required/,
 * );
 * ```
 */
export function checkInputs(
  step: string,
  inputs: unknown,
  spec: InputSpec,
  options: CheckInputsOptions = {},
): Record<string, unknown> {
  if (inputs === undefined || inputs === null) inputs = {};
  if (!isMapping(inputs)) {
    throw new TypeError(
      `Cannot run ${step}: its inputs must be a mapping of input names to values, found ${
        describeType(inputs)
      }; write the inputs as keys under the step's name`,
    );
  }
  const accepted = Object.keys(spec);
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (value === null || value === undefined) continue;
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      if (options.allowOthers) {
        result[name] = value;
        continue;
      }
      throw new TypeError(
        `Cannot run ${step}: unknown input "${name}" (accepted: ${
          accepted.map((a) => `"${a}"`).join(", ")
        }); remove it or fix its name`,
      );
    }
    checkValue(step, name, kind, value);
    result[name] = value;
  }
  for (const name of options.required ?? []) {
    const value = result[name];
    if (value === undefined || value === "") {
      throw new TypeError(
        `Cannot run ${step}: input "${name}" is required, found ${
          value === "" ? "an empty string" : "nothing"
        }; add "${name}: <value>" to the step`,
      );
    }
  }
  return result;
}

/**
 * Turns a checked `environment` input into strings.
 *
 * @param value A value that passed the `environment` check, or `undefined`.
 * @returns The variables as strings.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { environmentInput } from "./_inputs.ts";
 * assert.deepEqual(environmentInput({ PORT: 8080 }), { PORT: "8080" });
 * ```
 */
export function environmentInput(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (!isMapping(value)) return result;
  for (const [key, item] of Object.entries(value)) result[key] = String(item);
  return result;
}
