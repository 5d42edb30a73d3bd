/**
 * Starting commands for built-in steps: the run's directory and environment, live output,
 * full capture, and clear errors for a missing directory or command.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { StepContext } from "../types.ts";
import { writeOutput } from "./_context.ts";

/**
 * A command started by a built-in step exited with a non-zero code.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommandFailedError } from "./_command.ts";
 * const error = new CommandFailedError("failed", { exitCode: 2, stdout: "", stderr: "no" });
 * assert.equal(error.name, "CommandFailedError");
 * assert.equal(error.exitCode, 2);
 * ```
 */
export class CommandFailedError extends Error {
  /** The command's exit code. */
  readonly exitCode: number;
  /** Everything the step's commands wrote to standard output, trimmed. */
  readonly stdout: string;
  /** Everything the step's commands wrote to standard error, trimmed. */
  readonly stderr: string;
  /**
   * Creates the error.
   *
   * @param message What failed, with the exit code and standard error.
   * @param details The exit code and the captured output.
   */
  constructor(
    message: string,
    details: { exitCode: number; stdout: string; stderr: string },
  ) {
    super(message);
    this.name = "CommandFailedError";
    this.exitCode = details.exitCode;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** The step's name, used in messages. */
  step: string;
  /** The command's arguments. @default [] */
  args?: readonly string[];
  /** The directory the command runs in (absolute). */
  cwd: string;
  /** The command's whole environment; nothing else is inherited. */
  env: Record<string, string>;
  /** Where live output goes when `stream` is true. */
  context: StepContext;
  /** Stream output live through the context. @default false */
  stream?: boolean;
  /** Applied to every piece of output before it is streamed. @default identity */
  mask?: (text: string) => string;
}

/** What {@linkcode runCommand} captured. */
export interface RunCommandResult {
  /** The exit code. */
  code: number;
  /** Standard output, untrimmed. */
  stdout: string;
  /** Standard error, untrimmed. */
  stderr: string;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<string> {
  let text = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += value;
    onText(value);
  }
}

/**
 * Runs `command` with exactly the given environment (`clearEnv`), in `cwd`, capturing its
 * output and, when asked, streaming it live. It never changes the process's directory or
 * environment, so concurrent runs do not interfere.
 *
 * @param command The program, looked up on the `PATH` of `options.env`.
 * @param options Arguments, directory, environment and output handling.
 * @returns The exit code and the captured output.
 * @throws {Error} when the command is not found or cannot start.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCommand } from "./_command.ts";
 * const result = await runCommand("sh", {
 *   step: "example",
 *   args: ["-c", "echo $GREETING"],
 *   cwd: Deno.cwd(),
 *   env: { PATH: Deno.env.get("PATH") ?? "", GREETING: "hi" },
 *   context: { workingDirectory: Deno.cwd(), env: {}, write() {} },
 * });
 * assert.deepEqual(result, { code: 0, stdout: "hi\n", stderr: "" });
 * ```
 */
export async function runCommand(
  command: string,
  options: RunCommandOptions,
): Promise<RunCommandResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...(options.args ?? [])],
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Its own process group, which the run can end as a whole if the step is stopped.
      detached: true,
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run ${options.step}: command "${command}" was not found on the PATH of the run's environment; install it or add its directory to PATH`,
        { cause: error },
      );
    }
    throw new Error(
      `Cannot run ${options.step}: command "${command}" could not start: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  const mask = options.mask ?? ((text: string) => text);
  const live = (stream: "stdout" | "stderr") => (text: string) => {
    if (options.stream) writeOutput(options.context, stream, mask(text));
  };
  const exited = options.context.commandStarted?.(child.pid);
  try {
    const [stdout, stderr, status] = await Promise.all([
      collect(child.stdout, live("stdout")),
      collect(child.stderr, live("stderr")),
      child.status,
    ]);
    return { code: status.code, stdout, stderr };
  } finally {
    exited?.();
  }
}

/**
 * Resolves `directory` against the run's working directory and checks that it is a directory.
 *
 * @param step The step's name, used in messages.
 * @param directory The directory as given, relative or absolute; `undefined` for the working directory.
 * @param context The run's context.
 * @param input The input's name, used in messages. @default "directory"
 * @returns The absolute directory.
 * @throws {Error} when it does not exist or is not a directory.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDirectory } from "./_command.ts";
 * const context = { workingDirectory: Deno.cwd(), env: {}, write() {} };
 * assert.equal(await resolveDirectory("example", undefined, context), Deno.cwd());
 * ```
 */
export async function resolveDirectory(
  step: string,
  directory: string | undefined,
  context: StepContext,
  input = "directory",
): Promise<string> {
  const absolute = directory === undefined
    ? context.workingDirectory
    : resolve(context.workingDirectory, directory);
  const shown = directory === undefined || isAbsolute(directory)
    ? `"${absolute}"`
    : `"${directory}" (resolved to "${absolute}")`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run ${step}: directory ${shown} does not exist; create it or fix the "${input}" input`,
        { cause: error },
      );
    }
    throw error;
  }
  if (!info.isDirectory) {
    throw new Error(
      `Cannot run ${step}: ${shown} is not a directory; fix the "${input}" input`,
    );
  }
  return absolute;
}
