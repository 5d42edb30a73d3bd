/**
 * The `deno_install` built-in step: installs a Deno project's dependencies.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import { prepareInstall } from "./_install.ts";

const STEP = "deno_install";

/** The inputs of {@linkcode deno_install}. */
export interface DenoInstallInputs {
  /** The directory holding `deno.json` or `package.json`, relative to the run's working directory. @default the run's working directory */
  directory?: string;
  /** Stream the output live to the run's progress output (it is captured either way). @default true */
  "stream_output"?: boolean;
}

/** The running Deno binary when there is one (CI runs Deno through npx, off the PATH), else `deno`. */
function denoBinary(): string {
  try {
    const path = Deno.execPath();
    if (/(^|[/\\])deno(\.exe)?$/.test(path)) return path;
  } catch {
    // No read permission for the binary's path: fall back to the PATH.
  }
  return "deno";
}

/**
 * Runs `deno install` in `directory`, which installs the dependencies that its `deno.json` and
 * `package.json` declare, with the run's environment.
 *
 * @param inputs The step's inputs.
 * @param context The run's working directory, environment and progress output.
 * @returns Deno's `{ stdout, stderr }`, trimmed.
 * @throws {TypeError} when an input has the wrong type.
 * @throws {CommandFailedError} when the install fails (`deno_install failed with error code <code>: <stderr>`).
 *
 * @example A project without dependencies
 * ```ts
 * import assert from "node:assert/strict";
 * import { deno_install } from "./deno_install.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/deno.json`, "{}");
 * const context = { workingDirectory: root, env: { PATH: Deno.env.get("PATH") ?? "", HOME: root }, write() {} };
 * const result = await deno_install({ stream_output: false }, context);
 * assert.equal(typeof result.stderr, "string");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function deno_install(
  inputs: DenoInstallInputs = {},
  context?: StepContext,
): Promise<{ stdout: string; stderr: string }> {
  const install = await prepareInstall(STEP, inputs, context);
  return await install.run(denoBinary(), ["install"]);
}
