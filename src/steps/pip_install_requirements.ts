/**
 * The `pip_install_requirements` built-in step, compatible with Prefect's
 * `prefect.deployments.steps.pip_install_requirements`.
 *
 * @module
 */

import { resolve } from "node:path";
import type { StepContext } from "../types.ts";
import { prepareInstall } from "./_install.ts";

const STEP = "pip_install_requirements";

/** The inputs of {@linkcode pip_install_requirements}, with Prefect's names. */
export interface PipInstallRequirementsInputs {
  /** Where pip runs, relative to the run's working directory. @default the run's working directory */
  directory?: string;
  /** The requirements file, relative to `directory`. @default "requirements.txt" */
  "requirements_file"?: string;
  /** Stream pip's output live to the run's progress output (it is captured either way). @default true */
  "stream_output"?: boolean;
}

/**
 * Runs `python3 -m pip install -r <requirements_file>` in `directory`, with the run's
 * environment, so Prefect files that install Python requirements keep working.
 *
 * @param inputs The step's inputs (Prefect's names).
 * @param context The run's working directory, environment and progress output.
 * @returns pip's `{ stdout, stderr }`, trimmed.
 * @throws {TypeError} when an input has the wrong type.
 * @throws {Error} when `python3` is not on the PATH or the requirements file does not exist.
 * @throws {CommandFailedError} when pip fails
 * (`pip_install_requirements failed with error code <code>: <stderr>`, as in Prefect).
 *
 * @example A missing requirements file
 * ```ts
 * import assert from "node:assert/strict";
 * import { pip_install_requirements } from "./pip_install_requirements.ts";
 * const root = await Deno.makeTempDir();
 * const context = { workingDirectory: root, env: { PATH: Deno.env.get("PATH") ?? "" }, write() {} };
 * await assert.rejects(pip_install_requirements({}, context), /requirements file/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function pip_install_requirements(
  inputs: PipInstallRequirementsInputs = {},
  context?: StepContext,
): Promise<{ stdout: string; stderr: string }> {
  const install = await prepareInstall(
    STEP,
    inputs,
    context,
    { requirements_file: "string" },
  );
  const { checked, cwd } = install;
  const file = (checked.requirements_file ?? "requirements.txt") as string;
  try {
    if (!(await Deno.stat(resolve(cwd, file))).isFile) throw new Error();
  } catch {
    throw new Error(
      `Cannot run ${STEP}: requirements file "${file}" was not found in "${cwd}"; create it or fix "requirements_file" and "directory"`,
    );
  }
  try {
    return await install.run("python3", ["-m", "pip", "install", "-r", file]);
  } catch (error) {
    if (error instanceof Error && error.cause instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run ${STEP}: "python3" was not found on the PATH of the run's environment; install Python 3 with pip, or remove this step`,
        { cause: error },
      );
    }
    throw error;
  }
}
