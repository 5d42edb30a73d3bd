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
  /** The run's context (or one for the process, outside a run). */
  context: StepContext;
  /** The directory to install in, absolute. */
  cwd: string;
  /** Whether to stream output live (`stream_output`, default true). */
  stream: boolean;
}

/**
 * The common start of every install step: check the inputs, take the run's context and
 * resolve `directory` against the run's working directory.
 *
 * @param step The step's name, used in messages.
 * @param inputs The step's inputs.
 * @param context The run's context, if any.
 * @param more The inputs it accepts beyond `directory` and `stream_output`.
 * @returns The checked inputs, the context, the directory and whether to stream.
 * @throws {TypeError} when an input is of the wrong type or the directory does not exist.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareInstall } from "./_install.ts";
 * const context = { workingDirectory: Deno.cwd(), env: {}, write() {} };
 * const prepared = await prepareInstall("example", {}, context);
 * assert.equal(prepared.cwd, Deno.cwd());
 * assert.equal(prepared.stream, true);
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
    context: ctx,
    cwd,
    stream: (checked.stream_output ?? true) as boolean,
  };
}

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
