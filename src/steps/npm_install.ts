/**
 * The `npm_install` built-in step: this ecosystem's analog of Prefect's `pip_install_requirements`.
 *
 * @module
 */

import { join } from "node:path";
import type { StepContext } from "../types.ts";
import { prepareInstall } from "./_install.ts";

const STEP = "npm_install";

/** The inputs of {@linkcode npm_install}. */
export interface NpmInstallInputs {
  /** The directory holding `package.json`, relative to the run's working directory. @default the run's working directory */
  directory?: string;
  /** Stream npm's output live to the run's progress output (it is captured either way). @default true */
  "stream_output"?: boolean;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Installs a project's npm dependencies: `npm ci` when a lockfile (`package-lock.json` or
 * `npm-shrinkwrap.json`) is present, so the install is exactly the locked one, else
 * `npm install`. npm runs with the run's environment, in `directory`.
 *
 * @param inputs The step's inputs.
 * @param context The run's working directory, environment and progress output.
 * @returns npm's `{ stdout, stderr }`, trimmed.
 * @throws {TypeError} when an input has the wrong type.
 * @throws {CommandFailedError} when npm fails (`npm_install failed with error code <code>: <stderr>`).
 * @throws {Error} when the directory has no `package.json` or npm is not on the PATH.
 *
 * @example A project without dependencies
 * ```ts
 * import assert from "node:assert/strict";
 * import { npm_install } from "./npm_install.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/package.json`, '{"name":"example","version":"1.0.0"}');
 * const env = { PATH: Deno.env.get("PATH") ?? "", HOME: root, npm_config_offline: "true" };
 * const result = await npm_install({ stream_output: false }, { workingDirectory: root, env, write() {} });
 * assert.equal(typeof result.stdout, "string");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function npm_install(
  inputs: NpmInstallInputs = {},
  context?: StepContext,
): Promise<{ stdout: string; stderr: string }> {
  const install = await prepareInstall(STEP, inputs, context);
  const { cwd } = install;
  if (!(await isFile(join(cwd, "package.json")))) {
    throw new Error(
      `Cannot run ${STEP}: "${cwd}" has no package.json; point "directory" at the project's root`,
    );
  }
  const locked = await isFile(join(cwd, "package-lock.json")) ||
    await isFile(join(cwd, "npm-shrinkwrap.json"));
  return await install.run("npm", [locked ? "ci" : "install"]);
}
