/**
 * The shared body of the install steps: run one command in a directory, stream and capture its
 * output, and fail with Prefect's message on a non-zero exit.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import { CommandFailedError, runCommand } from "./_command.ts";

/** Options of {@linkcode runInstall}. */
export interface RunInstallOptions {
  /** The step's name, used in messages. */
  step: string;
  /** The command's arguments. */
  args: readonly string[];
  /** The directory it runs in (absolute). */
  cwd: string;
  /** The run's context. */
  context: StepContext;
  /** Stream output live. */
  stream: boolean;
}

/**
 * Runs an install command and returns its trimmed output.
 *
 * @param command The program.
 * @param options Arguments, directory, context and streaming.
 * @returns `{ stdout, stderr }`, trimmed.
 * @throws {CommandFailedError} with Prefect's message `<step> failed with error code <code>: <stderr>`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { runInstall } from "./_install.ts";
 * const context = { workingDirectory: Deno.cwd(), env: { PATH: Deno.env.get("PATH") ?? "" }, write() {} };
 * const result = await runInstall("sh", { step: "example", args: ["-c", "echo done"], cwd: Deno.cwd(), context, stream: false });
 * assert.deepEqual(result, { stdout: "done", stderr: "" });
 * ```
 */
export async function runInstall(
  command: string,
  options: RunInstallOptions,
): Promise<{ stdout: string; stderr: string }> {
  const result = await runCommand(command, {
    step: options.step,
    args: options.args,
    cwd: options.cwd,
    env: options.context.env,
    context: options.context,
    stream: options.stream,
  });
  const stdout = result.stdout.trim();
  const stderr = result.stderr.trim();
  if (result.code !== 0) {
    throw new CommandFailedError(
      `${options.step} failed with error code ${result.code}: ${stderr}`,
      { exitCode: result.code, stdout, stderr },
    );
  }
  return { stdout, stderr };
}
