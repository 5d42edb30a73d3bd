// Portable: no runtime APIs.
/**
 * The built-in steps: name -> module URL and declared permissions, nothing else.
 * Each built-in is an ordinary step module, resolved and sandboxed like any other.
 *
 * @module
 */

import { sourceUrl } from "../_util/source_url.ts";
import type { Permissions } from "../types.ts";

/** One built-in step. */
export interface BuiltinStep {
  /** The exported function's name (Prefect's snake_case). */
  name: string;
  /** The module's absolute URL. */
  moduleUrl: string;
  /** What the step needs to work; a step's `permissions` keyword may narrow it. */
  permissions: Permissions;
  /** After it completes, the run's working directory becomes its output's `directory`. */
  setsWorkingDirectory?: boolean;
}

/** Dotted prefixes under which the built-ins are reachable, as in Prefect's recipes. */
export const BUILTIN_PREFIXES: readonly string[] = Object.freeze([
  "prefect.deployments.steps",
  "prefect.deployments.steps.core",
  "prefect.deployments.steps.pull",
  "prefect.deployments.steps.utility",
  "prefect.projects.steps",
  "stepbox.steps",
]);

function builtin(
  name: string,
  permissions: Permissions,
  extra: Partial<BuiltinStep> = {},
): BuiltinStep {
  return Object.freeze({
    name,
    moduleUrl: sourceUrl(`steps/${name}.ts`).href,
    permissions: Object.freeze(permissions),
    ...extra,
  });
}

/** The built-in steps by name. */
export const BUILTIN_STEPS: Readonly<Record<string, BuiltinStep>> = Object
  .freeze({
    run_shell_script: builtin("run_shell_script", { run: true, read: true }),
    set_working_directory: builtin("set_working_directory", { read: true }, {
      setsWorkingDirectory: true,
    }),
    git_clone: builtin("git_clone", {
      run: true,
      read: true,
      write: true,
      env: true,
    }),
    npm_install: builtin("npm_install", { run: true, read: true }),
    deno_install: builtin("deno_install", { run: true, read: true }),
    pip_install_requirements: builtin("pip_install_requirements", {
      run: true,
      read: true,
    }),
    pull_from_remote_storage: builtin("pull_from_remote_storage", {
      read: true,
      write: true,
      net: true,
    }),
    pull_with_block: builtin("pull_with_block", {
      read: true,
      write: true,
      net: true,
    }),
  });

/**
 * Finds the built-in a dotted reference names, such as `prefect.deployments.steps.git_clone`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBuiltinStep } from "./mod.ts";
 * assert.equal(findBuiltinStep("stepbox.steps.git_clone")?.name, "git_clone");
 * assert.equal(findBuiltinStep("my.module.git_clone"), undefined);
 * ```
 */
export function findBuiltinStep(reference: string): BuiltinStep | undefined {
  const dot = reference.lastIndexOf(".");
  if (dot < 0) return undefined;
  const prefix = reference.slice(0, dot);
  const name = reference.slice(dot + 1);
  if (!BUILTIN_PREFIXES.includes(prefix)) return undefined;
  return Object.hasOwn(BUILTIN_STEPS, name) ? BUILTIN_STEPS[name] : undefined;
}
