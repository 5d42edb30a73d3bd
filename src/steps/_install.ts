/**
 * The shared body of the install steps: run one command in a directory, stream and capture its
 * output, and fail with Prefect's message on a non-zero exit.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import {
  CommandFailedError,
  resolveDirectory,
  runCommand,
} from "./_command.ts";
import { stepContext } from "./_context.ts";
import { checkInputs, type InputSpec } from "./_inputs.ts";

/** What {@linkcode prepareInstall} gives an install step. */
export interface PreparedInstall {
  /** The inputs, checked against the step's spec. */
  checked: Record<string, unknown>;
  /** The directory to install in, absolute. */
  cwd: string;
  /**
   * Runs the install command in `cwd` with the run's environment, streaming its output unless
   * `stream_output` is false, and returns its trimmed output.
   *
   * @throws {CommandFailedError} with Prefect's message `<step> failed with error code <code>: <stderr>`.
   */
  run(
    command: string,
    args: readonly string[],
  ): Promise<{ stdout: string; stderr: string }>;
}

/**
 * The common body of every install step: check the inputs, take the run's context, resolve
 * `directory` against the run's working directory, then run the command there.
 *
 * @param step The step's name, used in messages.
 * @param inputs The step's inputs.
 * @param context The run's context, if any.
 * @param more The inputs it accepts beyond `directory` and `stream_output`.
 * @returns The checked inputs, the directory, and how to run the command.
 * @throws {TypeError} when an input is of the wrong type or the directory does not exist.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareInstall } from "./_install.ts";
 * const context = { workingDirectory: Deno.cwd(), env: { PATH: Deno.env.get("PATH") ?? "" }, write() {} };
 * const install = await prepareInstall("example", { stream_output: false }, context);
 * assert.equal(install.cwd, Deno.cwd());
 * assert.deepEqual(await install.run("sh", ["-c", "echo done"]), { stdout: "done", stderr: "" });
 * await assert.rejects(install.run("sh", ["-c", "echo no >&2; exit 3"]), {
 *   message: "example failed with error code 3: no",
 * });
 * ```
 */
export async function prepareInstall(
  step: string,
  inputs: unknown,
  context?: StepContext,
  more: InputSpec = {},
): Promise<PreparedInstall> {
  const checked = checkInputs(step, inputs, {
    directory: "string",
    ...more,
    stream_output: "boolean",
  });
  const ctx = stepContext(context);
  const cwd = await resolveDirectory(
    step,
    checked.directory as string | undefined,
    ctx,
  );
  return {
    checked,
    cwd,
    async run(command, args) {
      const result = await runCommand(command, {
        step,
        args,
        cwd,
        env: ctx.env,
        context: ctx,
        stream: (checked.stream_output ?? true) as boolean,
      });
      const stdout = result.stdout.trim();
      const stderr = result.stderr.trim();
      if (result.code !== 0) {
        throw new CommandFailedError(
          `${step} failed with error code ${result.code}: ${stderr}`,
          { exitCode: result.code, stdout, stderr },
        );
      }
      return { stdout, stderr };
    },
  };
}
