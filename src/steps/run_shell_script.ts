/**
 * The `run_shell_script` built-in step, compatible with Prefect's
 * `prefect.deployments.steps.run_shell_script`.
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
import { checkInputs, environmentInput } from "./_inputs.ts";
import { expandEnvVars, splitShellWords } from "./_shell_words.ts";

const STEP = "run_shell_script";

/** The inputs of {@linkcode run_shell_script}, with Prefect's names. */
export interface RunShellScriptInputs {
  /** The commands, one per line. Blank lines and lines starting with `#` are skipped. */
  script: string;
  /** Where the commands run, relative to the run's working directory. @default the run's working directory */
  directory?: string;
  /** Variables set over the run's environment. @default {} */
  env?: Record<string, string | number>;
  /** Stream output live to the run's progress output (it is captured either way). @default true */
  "stream_output"?: boolean;
  /** Replace `$NAME` and `${NAME}` with environment values before splitting; unknown names stay. @default false */
  "expand_env_vars"?: boolean;
  /** Run each line through `sh -c` (pipes, redirections, `&&`) instead of splitting it into words. @default false */
  shell?: boolean;
}

/** The outputs of {@linkcode run_shell_script}. */
export interface RunShellScriptResult extends Record<string, unknown> {
  /** Everything the commands wrote to standard output, trimmed. */
  stdout: string;
  /** Everything the commands wrote to standard error, trimmed. */
  stderr: string;
}

/**
 * Runs each line of `script` as a command, in order, stopping at the first that fails.
 *
 * Without `shell`, a line is split into words like a POSIX shell splits them (quotes,
 * backslash escapes) and run directly, as Prefect does; with `shell: true` it runs through
 * `sh -c`, so pipes and redirections work. Each line is its own process: a `cd` or a variable
 * set on one line does not carry to the next. Commands see the run's environment with `env`
 * merged over it, and run in `directory` resolved against the run's working directory — the
 * process's own directory and environment are never used or changed.
 *
 * @param inputs The step's inputs (Prefect's names).
 * @param context The run's working directory, environment and progress output.
 * @returns The captured `stdout` and `stderr`, trimmed.
 * @throws {TypeError} when an input is missing or has the wrong type.
 * @throws {CommandFailedError} when a command exits with a non-zero code; it carries
 * `exitCode`, `stdout` and `stderr`, and the message is Prefect's:
 * `` `run_shell_script` failed with error code <code>: <stderr> ``.
 * @throws {Error} when `directory` does not exist or a command is not found.
 *
 * @example Two commands
 * ```ts
 * import assert from "node:assert/strict";
 * import { run_shell_script } from "./run_shell_script.ts";
 * const context = { workingDirectory: Deno.cwd(), env: { PATH: Deno.env.get("PATH") ?? "" }, write() {} };
 * const result = await run_shell_script({
 *   script: "echo one\necho \"two  words\"",
 *   stream_output: false,
 * }, context);
 * assert.deepEqual(result, { stdout: "one\ntwo  words", stderr: "" });
 * ```
 *
 * @example A failing command
 * ```ts
 * import assert from "node:assert/strict";
 * import { run_shell_script } from "./run_shell_script.ts";
 * const context = { workingDirectory: Deno.cwd(), env: { PATH: Deno.env.get("PATH") ?? "" }, write() {} };
 * await assert.rejects(
 *   run_shell_script({ script: "sh -c 'echo bad >&2; exit 3'" }, context),
 *   { exitCode: 3, stderr: "bad" },
 * );
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function run_shell_script(
  inputs: RunShellScriptInputs,
  context?: StepContext,
): Promise<RunShellScriptResult> {
  const checked = checkInputs(STEP, inputs, {
    script: "string",
    directory: "string",
    env: "environment",
    stream_output: "boolean",
    expand_env_vars: "boolean",
    shell: "boolean",
  }, { required: ["script"] });
  const ctx = stepContext(context);
  const script = checked.script as string;
  const stream = (checked.stream_output ?? true) as boolean;
  const expand = (checked.expand_env_vars ?? false) as boolean;
  const shell = (checked.shell ?? false) as boolean;
  const env = { ...ctx.env, ...environmentInput(checked.env) };

  // Split every line before running any, so a malformed line fails before side effects.
  const commands: string[][] = [];
  const lines = script.split(/\r\n|\r|\n/);
  for (const [index, raw] of lines.entries()) {
    const line = expand ? expandEnvVars(raw, env) : raw;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (shell) {
      commands.push(["sh", "-c", line]);
      continue;
    }
    try {
      commands.push(splitShellWords(line));
    } catch (error) {
      throw new SyntaxError(
        `Cannot run ${STEP}: line ${index + 1} of the script does not parse: ${
          (error as Error).message.replace(
            /^Cannot split the command line: /,
            "",
          )
        }`,
        { cause: error },
      );
    }
  }
  const cwd = await resolveDirectory(
    STEP,
    checked.directory as string | undefined,
    ctx,
  );

  let stdout = "";
  let stderr = "";
  for (const [command, ...args] of commands) {
    const result = await runCommand(command!, {
      step: STEP,
      args,
      cwd,
      env,
      context: ctx,
      stream,
    });
    stdout += result.stdout;
    stderr += result.stderr;
    if (result.code !== 0) {
      throw new CommandFailedError(
        `\`run_shell_script\` failed with error code ${result.code}: ${stderr.trim()}`,
        { exitCode: result.code, stdout: stdout.trim(), stderr: stderr.trim() },
      );
    }
  }
  return { stdout: stdout.trim(), stderr: stderr.trim() };
}
