/**
 * The `set_working_directory` built-in step, compatible with Prefect's
 * `prefect.deployments.steps.set_working_directory`.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import { resolveDirectory } from "./_command.ts";
import { stepContext } from "./_context.ts";
import { checkInputs } from "./_inputs.ts";

const STEP = "set_working_directory";

/** The inputs of {@linkcode set_working_directory}, with Prefect's names. */
export interface SetWorkingDirectoryInputs {
  /** The new working directory, relative to the run's current one or absolute. */
  directory: string;
}

/**
 * Checks `directory` and returns it as an absolute path. The run (not the process) then uses
 * it as its working directory: the built-in registry marks this step `setsWorkingDirectory`, so
 * the core switches the run's directory to the returned `directory`, and later steps' relative
 * paths and commands use it. The process's directory never changes, so concurrent runs do not
 * interfere.
 *
 * @param inputs The step's inputs (Prefect's names).
 * @param context The run's working directory.
 * @returns `{ directory }`, absolute.
 * @throws {TypeError} when `directory` is missing or not a string.
 * @throws {Error} when the directory does not exist or is not a directory.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { set_working_directory } from "./set_working_directory.ts";
 * const context = { workingDirectory: "/", env: {}, write() {} };
 * assert.deepEqual(await set_working_directory({ directory: "tmp" }, context), { directory: "/tmp" });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function set_working_directory(
  inputs: SetWorkingDirectoryInputs,
  context?: StepContext,
): Promise<{ directory: string }> {
  const checked = checkInputs(STEP, inputs, { directory: "string" }, {
    required: ["directory"],
  });
  const directory = await resolveDirectory(
    STEP,
    checked.directory as string,
    stepContext(context),
  );
  return { directory };
}
