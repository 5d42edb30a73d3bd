// Portable: no runtime APIs.
/**
 * Step permissions: {@linkcode validatePermissions} checks a `permissions` keyword and
 * {@linkcode computeGrant} decides what a step is granted under the run's ceiling. Pure.
 *
 * @module
 */

import { PolicyError, StepValidationError } from "../errors.ts";
import type { BuiltinStep } from "../steps/mod.ts";
import {
  PERMISSION_NAMES,
  type PermissionName,
  type Permissions,
  type PermissionValue,
} from "../types.ts";

/** Which step a check is about. */
export interface StepWhere {
  /** The step's position in its list (0-based). */
  stepIndex: number;
  /** The step reference. */
  reference?: string;
}

function describeStep(where: StepWhere): string {
  return where.reference === undefined
    ? `step ${where.stepIndex}`
    : `step ${where.stepIndex} "${where.reference}"`;
}

/**
 * Checks a step's `permissions` keyword: a mapping of Deno's permission kinds (`read`,
 * `write`, `net`, `env`, `run`, `sys`, `ffi`, `import`) to `true`, `false` or a list of
 * non-empty strings.
 *
 * @param value The keyword's value as written.
 * @param where The step, for the message.
 * @returns A frozen copy of the permissions.
 * @throws {StepValidationError} for anything else, naming the step and the fix
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePermissions } from "./permissions.ts";
 *
 * assert.deepEqual(validatePermissions({ net: ["example.com"], read: true }, { stepIndex: 0 }), {
 *   net: ["example.com"],
 *   read: true,
 * });
 * assert.throws(() => validatePermissions({ network: true }, { stepIndex: 0 }), /unknown permission kind "network"/);
 * ```
 */
export function validatePermissions(
  value: unknown,
  where: StepWhere,
): Permissions {
  const fix = `write it as a mapping of ${
    PERMISSION_NAMES.join(", ")
  } to true, false or a list of strings, e.g. permissions: { net: ["api.example.com"], read: true }`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StepValidationError(
      `Cannot use the permissions of ${
        describeStep(where)
      }: expected a mapping, found ${
        Array.isArray(value) ? "a list" : JSON.stringify(value) ?? typeof value
      }; ${fix}`,
      where,
    );
  }
  const result: Permissions = {};
  for (const [kind, grant] of Object.entries(value)) {
    if (!(PERMISSION_NAMES as readonly string[]).includes(kind)) {
      throw new StepValidationError(
        `Cannot use the permissions of ${
          describeStep(where)
        }: unknown permission kind "${kind}"; the kinds are ${
          PERMISSION_NAMES.join(", ")
        }`,
        where,
      );
    }
    if (typeof grant === "boolean") {
      result[kind as PermissionName] = grant;
      continue;
    }
    if (
      Array.isArray(grant) &&
      grant.every((item) => typeof item === "string" && item.trim() !== "")
    ) {
      result[kind as PermissionName] = Object.freeze([...grant] as string[]);
      continue;
    }
    throw new StepValidationError(
      `Cannot use the permissions of ${
        describeStep(where)
      }: "${kind}" must be true, false or a list of non-empty strings, found ${
        JSON.stringify(grant) ?? typeof grant
      }; ${fix}`,
      where,
    );
  }
  return Object.freeze(result);
}

/**
 * Checks a run's permission ceiling (`policy.allow`): the same shape as a step's `permissions`.
 *
 * @param value The ceiling as given.
 * @returns A frozen copy.
 * @throws {TypeError} when it is malformed, naming the option and the fix
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateCeiling } from "./permissions.ts";
 * assert.deepEqual(validateCeiling({ net: true }), { net: true });
 * assert.throws(() => validateCeiling({ net: "yes" }), /policy\.allow/);
 * ```
 */
export function validateCeiling(value: unknown): Permissions {
  try {
    return validatePermissions(value, { stepIndex: -1 });
  } catch (error) {
    throw new TypeError(
      (error as Error).message.replace(
        /^Cannot use the permissions of step -1: /,
        "Cannot use the policy.allow option: ",
      ).replace("e.g. permissions:", "e.g. policy.allow:"),
    );
  }
}

function isGranted(value: PermissionValue | undefined): boolean {
  return value === true || (Array.isArray(value) && value.length > 0);
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/[\\/]+$/, "") : path;
}

function hostAndPort(entry: string): { host: string; port?: string } {
  const lower = entry.toLowerCase();
  if (lower.startsWith("[")) {
    const close = lower.indexOf("]");
    const port = lower.slice(close + 1).replace(/^:/, "");
    return port === ""
      ? { host: lower.slice(0, close + 1) }
      : { host: lower.slice(0, close + 1), port };
  }
  const colon = lower.lastIndexOf(":");
  return colon < 0
    ? { host: lower }
    : { host: lower.slice(0, colon), port: lower.slice(colon + 1) };
}

/** Whether the allowed entry `allowed` of kind `kind` covers the requested entry `wanted`. */
function covers(
  kind: PermissionName,
  allowed: string,
  wanted: string,
): boolean {
  if (allowed === wanted) return true;
  switch (kind) {
    case "read":
    case "write":
    case "ffi": {
      const base = trimSlash(allowed);
      const path = trimSlash(wanted);
      return path === base || path.startsWith(`${base}/`) ||
        path.startsWith(`${base}\\`) ||
        (base === "/" && path.startsWith("/"));
    }
    case "net":
    case "import": {
      const a = hostAndPort(allowed);
      const w = hostAndPort(wanted);
      return a.host === w.host && (a.port === undefined || a.port === w.port);
    }
    case "env":
      return allowed.endsWith("*") && wanted.startsWith(allowed.slice(0, -1));
    default:
      return false;
  }
}

/** The part of `wanted` that `allowed` permits. */
function intersect(
  kind: PermissionName,
  allowed: PermissionValue | undefined,
  wanted: PermissionValue | undefined,
): PermissionValue {
  if (!isGranted(allowed) || !isGranted(wanted)) return false;
  if (allowed === true) return wanted as PermissionValue;
  // A copy: a grant holds nothing of the ceiling, which its caller may change later.
  if (wanted === true) return Object.freeze([...allowed as readonly string[]]);
  const a = allowed as readonly string[];
  const w = wanted as readonly string[];
  const kept = new Set<string>();
  for (const item of w) {
    if (a.some((entry) => covers(kind, entry, item))) kept.add(item);
  }
  for (const item of a) {
    if (w.some((entry) => covers(kind, entry, item))) kept.add(item);
  }
  return kept.size === 0 ? false : Object.freeze([...kept]);
}

/** What of `wanted` lies beyond `allowed` (empty when nothing does). */
function beyond(
  kind: PermissionName,
  allowed: PermissionValue | undefined,
  wanted: PermissionValue,
): string[] | true {
  if (!isGranted(wanted) || allowed === true) return [];
  if (wanted === true) return true;
  const list = allowed === undefined || allowed === false ? [] : allowed;
  return (wanted as readonly string[]).filter((item) =>
    !list.some((entry) => covers(kind, entry, item))
  );
}

function show(value: PermissionValue | undefined): string {
  if (value === true) return "true";
  if (value === undefined || value === false) return "[]";
  return JSON.stringify(value);
}

function flag(kind: PermissionName, value: PermissionValue): string {
  return value === true || value === false
    ? `--allow-${kind}`
    : `--allow-${kind}=${value.join(",")}`;
}

/** Options of {@linkcode computeGrant}. */
export interface ComputeGrantOptions {
  /** The built-in the step resolved to, if it is one. */
  builtin?: BuiltinStep | undefined;
  /** The run's ceiling (`policy.allow`). @default {} (nothing) */
  ceiling?: Permissions;
}

/** The step a grant is computed for. */
export interface GrantStep {
  /** The step's position in its list (0-based). */
  index: number;
  /** The step reference. */
  reference: string;
  /** The step's validated `permissions` keyword, if any. */
  permissions?: Permissions | undefined;
}

// The grant of every step that asks for nothing; frozen, so sharing it is safe.
const NO_GRANT: Permissions = Object.freeze({});

/**
 * The permissions a step is granted. A third-party step gets exactly its `permissions`
 * keyword (or nothing), which must lie within the ceiling. A built-in gets what it declares,
 * narrowed by its `permissions` keyword if given and by the ceiling; a declared kind that the
 * ceiling does not grant at all is an error. Kinds that end up denied are left out.
 *
 * @param step The step and its `permissions` keyword.
 * @param options The built-in it resolved to, and the ceiling.
 * @returns The grant (empty when the step gets nothing).
 * @throws {PolicyError} when the step needs more than the ceiling allows, naming the step, the
 *   permission, the requested value, the ceiling and the flag or option that would allow it
 *
 * @example A third-party request within and beyond the ceiling
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeGrant } from "./permissions.ts";
 *
 * const step = { index: 0, reference: "./fetch.ts#get", permissions: { net: ["api.example.com"] } };
 * assert.deepEqual(computeGrant(step, { ceiling: { net: true } }), { net: ["api.example.com"] });
 * assert.throws(() => computeGrant(step, { ceiling: {} }), /--allow-net=api.example.com/);
 * ```
 */
export function computeGrant(
  step: GrantStep,
  options: ComputeGrantOptions = {},
): Permissions {
  // Most steps ask for nothing: skip the message text and the walk over the kinds.
  if (options.builtin === undefined && step.permissions === undefined) {
    return NO_GRANT;
  }
  const ceiling = options.ceiling ?? {};
  const where = `step ${step.index} "${step.reference}"`;
  const grant: Permissions = {};
  if (options.builtin === undefined) {
    const requested = step.permissions ?? {};
    for (const kind of PERMISSION_NAMES) {
      const wanted = requested[kind];
      if (wanted === undefined || !isGranted(wanted)) continue;
      const excess = beyond(kind, ceiling[kind], wanted);
      if (excess === true || excess.length > 0) {
        const shown = excess === true ? true : excess;
        throw new PolicyError(
          `Cannot run ${where}: it requests ${kind} ${
            show(wanted)
          } beyond the run's ceiling ${kind} ${
            show(ceiling[kind])
          }; raise the ceiling with ${
            flag(kind, shown)
          } or the policy.allow option ({ ${kind}: ${
            show(shown)
          } }), or drop the request from the step's permissions`,
        );
      }
      grant[kind] = wanted;
    }
    return Object.freeze(grant);
  }
  const declared = options.builtin.permissions;
  for (const kind of PERMISSION_NAMES) {
    let wanted: PermissionValue | undefined = declared[kind];
    if (!isGranted(wanted)) continue;
    if (step.permissions !== undefined) {
      wanted = intersect(kind, step.permissions[kind], wanted);
      if (!isGranted(wanted)) continue;
    }
    if (!isGranted(ceiling[kind])) {
      throw new PolicyError(
        `Cannot run ${where}: the built-in step "${options.builtin.name}" needs ${kind} ${
          show(wanted)
        } but the run's ceiling grants no ${kind}; allow it with ${
          flag(kind, wanted as PermissionValue)
        } or the policy.allow option ({ ${kind}: ${show(wanted)} })`,
      );
    }
    const allowed = intersect(kind, ceiling[kind], wanted);
    if (isGranted(allowed)) grant[kind] = allowed;
  }
  return Object.freeze(grant);
}

/**
 * Whether a grant gives nothing at all.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isEmptyGrant } from "./permissions.ts";
 * assert.equal(isEmptyGrant({ net: [], read: false }), true);
 * assert.equal(isEmptyGrant({ env: ["HOME"] }), false);
 * ```
 */
export function isEmptyGrant(grant: Permissions): boolean {
  if (grant === NO_GRANT) return true;
  for (const kind of PERMISSION_NAMES) {
    if (isGranted(grant[kind])) return false;
  }
  return true;
}

/**
 * A short text of a grant for messages.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeGrant } from "./permissions.ts";
 * assert.equal(describeGrant({ net: true, read: ["/tmp"], env: false }), 'read ["/tmp"], net true');
 * ```
 */
export function describeGrant(grant: Permissions): string {
  return PERMISSION_NAMES.filter((kind) => isGranted(grant[kind]))
    .map((kind) => `${kind} ${show(grant[kind])}`).join(", ");
}
