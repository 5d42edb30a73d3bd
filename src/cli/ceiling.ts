/**
 * The CLI's default permission ceiling: what the step file itself grants (whoever runs a file
 * vouches for it) — the union of its steps' `permissions` plus what its built-in steps declare.
 *
 * @module
 */

import type {
  PermissionName,
  Permissions,
  PermissionValue,
  Step,
} from "../types.ts";
import { PERMISSION_NAMES } from "../types.ts";
import { findBuiltinStep } from "../steps/mod.ts";

/** A grant that switches the sandbox off for a non-built-in step. */
export interface RiskyGrant {
  /** The step's index in its list. */
  index: number;
  /** The step reference. */
  reference: string;
  /** `run`, `ffi`, or `all` (`permissions: true`). */
  grant: "run" | "ffi" | "all";
}

/** The ceiling a list of steps asks for, and the risky grants in it. */
export interface FileCeiling {
  allow: Permissions;
  risky: RiskyGrant[];
}

/**
 * Computes the union of what `steps` request (`permissions`) and what their built-ins declare.
 *
 * @param steps The steps as written.
 * @returns The ceiling and every `run`/`ffi`/all grant to a non-built-in step.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileCeiling } from "./ceiling.ts";
 * const { allow, risky } = fileCeiling([
 *   { "./a.ts#fetchIt": { permissions: { net: ["api.example.com"] } } },
 *   { "./b.ts#shell": { permissions: { run: ["git"] } } },
 * ]);
 * assert.deepEqual(allow, { net: ["api.example.com"], run: ["git"] });
 * assert.deepEqual(risky, [{ index: 1, reference: "./b.ts#shell", grant: "run" }]);
 * ```
 */
export function fileCeiling(steps: readonly Step[]): FileCeiling {
  const allow: Permissions = {};
  const risky: RiskyGrant[] = [];
  steps.forEach((step, index) => {
    if (step === null || typeof step !== "object") return;
    const reference = Object.keys(step)[0];
    if (reference === undefined) return;
    const builtin = findBuiltinStep(reference);
    if (builtin !== undefined) addAll(allow, builtin.permissions);
    const inputs = step[reference];
    const requested = typeof inputs === "object" && inputs !== null
      ? (inputs as Record<string, unknown>).permissions
      : undefined;
    if (requested === true || requested === "all") {
      for (const kind of PERMISSION_NAMES) allow[kind] = true;
      if (builtin === undefined) risky.push({ index, reference, grant: "all" });
      return;
    }
    if (
      typeof requested !== "object" || requested === null ||
      Array.isArray(requested)
    ) return;
    const grants: Permissions = {};
    for (const kind of PERMISSION_NAMES) {
      const value = (requested as Record<string, unknown>)[kind];
      if (value === true) grants[kind] = true;
      else if (Array.isArray(value)) {
        grants[kind] = value.filter((item) => typeof item === "string");
      }
    }
    addAll(allow, grants);
    if (builtin === undefined) {
      for (const kind of ["run", "ffi"] as const) {
        if (grants[kind] !== undefined && grants[kind] !== false) {
          risky.push({ index, reference, grant: kind });
        }
      }
    }
  });
  return { allow, risky };
}

function addAll(into: Permissions, from: Permissions): void {
  for (const kind of Object.keys(from) as PermissionName[]) {
    const value = from[kind];
    if (value === undefined) continue;
    into[kind] = union(into[kind], value);
  }
}

function union(
  current: PermissionValue | undefined,
  next: PermissionValue,
): PermissionValue {
  if (current === true || next === true) return true;
  if (current === undefined || current === false) {
    return next === false ? false : [...next];
  }
  if (next === false) return current;
  return [...new Set([...current, ...next])];
}
