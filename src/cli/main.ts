/**
 * The `stepbox` command line: the only place that reads argv, prints and exits.
 * Exit codes: 0 success, 1 a step failed, 2 bad usage or a bad file (130 when interrupted).
 *
 * Commands load lazily, so `stepbox --help` or `variable get` never pay for the sandbox.
 *
 * @module
 */

import { parseArgs, UsageError } from "./args.ts";
import type { CommandContext } from "./commands/_context.ts";
import type { ReportSink } from "./report.ts";

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += file.writeSync(bytes.subarray(written));
    } catch {
      return; // A closed pipe (`| head`): nothing more can be shown.
    }
  }
}

/**
 * Runs the command line `argv` and resolves to the exit code. Never throws: every error is
 * reported on stderr.
 *
 * @example Help on a command
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./main.ts";
 * let err = "";
 * const sink = { stdout: () => {}, stderr: (t: string) => err += t, live: false, color: false };
 * assert.equal(await main(["run", "--bogus"], { sink }), 2);
 * assert.match(err, /Unknown flag "--bogus"/);
 * ```
 */
export async function main(
  argv: readonly string[],
  overrides: Partial<CommandContext> = {},
): Promise<number> {
  const env = overrides.env ?? Deno.env.toObject();
  const sink: ReportSink = overrides.sink ?? {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    live: Deno.stderr.isTerminal() && env.CI === undefined,
    color: Deno.stderr.isTerminal() && env.NO_COLOR === undefined,
  };
  try {
    const options = parseArgs(argv);
    // `deno task` runs in the config file's directory and says where the user was in INIT_CWD.
    const context: CommandContext = {
      cwd: overrides.cwd ?? (env.INIT_CWD || Deno.cwd()),
      env,
      sink,
      readStdin: overrides.readStdin ?? readStdin,
      ...(overrides.signal !== undefined ? { signal: overrides.signal } : {}),
      ...(overrides.exitsAfter !== undefined
        ? { exitsAfter: overrides.exitsAfter }
        : {}),
    };
    switch (options.command) {
      case "help": {
        const { helpText } = await import("./help.ts");
        sink.stdout(helpText(options.topic));
        return 0;
      }
      case "version":
        sink.stdout("stepbox 0.1.0\n");
        return 0;
      case "run": {
        // The host the last such run used starts now, while the rest loads.
        const launch = options.dryRun || options.isolation === "inline"
          ? undefined
          : (await import("./_launch_cache.ts")).openLaunchCache(
            {
              file: options.file,
              section: options.section,
              importMap: options.importMap,
              isolation: options.isolation,
              allow: options.allow,
              allowUnenforced: options.allowUnenforced,
            },
            context.cwd,
            env,
          );
        try {
          const { runCommand } = await import("./commands/run.ts");
          return await runCommand(
            options,
            launch === undefined ? context : { ...context, launcher: launch },
          );
        } finally {
          await launch?.settle();
        }
      }
      case "validate": {
        const { validateCommand } = await import("./commands/validate.ts");
        return await validateCommand(options, context);
      }
      case "variable": {
        const { variableCommand } = await import("./commands/variable.ts");
        return await variableCommand(options, context);
      }
      case "block": {
        const { blockCommand } = await import("./commands/block.ts");
        return await blockCommand(options, context);
      }
    }
  } catch (error) {
    return report(error, sink, env);
  }
}

function report(
  error: unknown,
  sink: ReportSink,
  env: Record<string, string>,
): number {
  if (error instanceof UsageError) {
    sink.stderr(
      `error: ${error.message}\nRun "stepbox ${
        error.topic === "stepbox" ? "" : `${error.topic} `
      }--help" for usage.\n`,
    );
    return 2;
  }
  const { name, code, message } = (error ?? {}) as {
    name?: string;
    code?: string;
    message?: string;
  };
  if (name === "StepFileError") {
    // Already `file:line:column: reason`.
    sink.stderr(`${message}\n`);
    const snippet = (error as { snippet?: string }).snippet;
    if (sink.live && snippet) {
      sink.stderr(`${snippet.replace(/^/gm, "    ")}\n`);
    }
    return 2;
  }
  if (typeof code === "string" && typeof name === "string") {
    sink.stderr(`error: ${message}\n`);
    return 2;
  }
  if (name === "AbortError") {
    sink.stderr("error: cancelled\n");
    return 130;
  }
  sink.stderr(
    `error: ${name ?? "Error"}: ${message ?? String(error)}\n` +
      (env.STEPBOX_DEBUG && error instanceof Error && error.stack
        ? `${error.stack}\n`
        : ""),
  );
  return 1;
}

async function readStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}

if (import.meta.main) {
  const controller = new AbortController();
  let interrupted = false;
  const onInterrupt = () => {
    // The first Ctrl-C cancels the run cleanly; a second one does not wait.
    if (interrupted) Deno.exit(130);
    interrupted = true;
    controller.abort();
  };
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
  } catch {
    // No signals on this platform: Ctrl-C ends the process as usual.
  }
  const code = await main(Deno.args, {
    signal: controller.signal,
    exitsAfter: true,
  });
  Deno.exit(code);
}
