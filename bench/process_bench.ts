/**
 * What does a whole process cost? `deno run` of an empty file (the floor), of a one-step script
 * (the process-per-step design), and the CLI running a one-step file end to end.
 *
 * Every process starts in the repository root, so all of them find the same `deno.json`. They are
 * measured in rounds, a sample of each in turn, so that each ratio to the floor compares
 * processes started side by side.
 *
 * @module
 */

import type { BenchGroup, RoundTask } from "./_group.ts";
import { FIXTURES_URL, ROOT_URL } from "./_stepbox.ts";

const EMPTY = new URL("empty.ts", FIXTURES_URL);
const ONE_STEP = new URL("one_step.ts", FIXTURES_URL);
const HELLO_FILE = new URL("hello.yaml", FIXTURES_URL);
const CLI_MAIN = new URL("src/cli/main.ts", ROOT_URL);

/**
 * Registers `deno-run-empty`, `subprocess-per-step`, `cli-hello` and `cli-hello-cold`.
 *
 * @example The floor with a tiny budget
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { processBench } from "./process_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "deno-run-empty" });
 * await processBench(group);
 * const rows = await group.tasks[0]!.measure();
 * await group.close();
 * assert.deepEqual(rows.map((row) => [row.name, row.state]), [["deno-run-empty", "measured"]]);
 * ```
 */
export async function processBench(group: BenchGroup): Promise<void> {
  const tasks: RoundTask[] = [
    { name: "deno-run-empty", fn: () => run(["run", EMPTY.pathname]) },
    {
      name: "subprocess-per-step",
      fn: async () => {
        const stdout = await run(["run", ONE_STEP.pathname, "bench"]);
        expectJson(stdout, "hello bench");
      },
    },
  ];
  if (group.wants("cli-hello", "cli-hello-cold")) {
    const cliArgs = [
      "run",
      "--allow-all",
      CLI_MAIN.pathname,
      "run",
      HELLO_FILE.pathname,
    ];
    const missing = await whyMissing(cliArgs);
    if (missing !== undefined) {
      group.unavailable("cli-hello", missing);
      group.unavailable("cli-hello-cold", missing);
    } else {
      // A run of a file run before (the usual case: the launch cache starts its sandbox host at
      // once), in a cache of the task's own; and every run as a first run, with the cache off.
      const cache = group.scoped(
        () => Deno.makeTempDir({ prefix: "stepbox-bench-launch-" }),
        (dir) => Deno.remove(dir, { recursive: true }),
      );
      tasks.push({
        name: "cli-hello",
        fn: async () => {
          expectJson(
            await run(cliArgs, { STEPBOX_CACHE_DIR: cache.value }),
            "hello bench",
          );
        },
        hooks: cache.hooks,
      }, {
        name: "cli-hello-cold",
        fn: async () => {
          expectJson(
            await run(cliArgs, { STEPBOX_LAUNCH_CACHE: "0" }),
            "hello bench",
          );
        },
      });
    }
  }
  group.addInRounds("process", tasks);
}

/**
 * Runs the CLI once before measuring it: a CLI whose modules are not all written yet is "not
 * available"; any other failure is left for the measured run to report as a failure.
 */
async function whyMissing(cliArgs: string[]): Promise<string | undefined> {
  try {
    await Deno.stat(CLI_MAIN);
  } catch {
    return "src/cli/main.ts does not exist yet";
  }
  try {
    await run(cliArgs, { STEPBOX_LAUNCH_CACHE: "0" });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const notFound = /Module not found "([^"]+)"/.exec(message);
    if (notFound !== null) {
      return `the CLI imports ${
        notFound[1]?.replace(ROOT_URL.href, "")
      }, which does not exist yet`;
    }
  }
  return undefined;
}

/** Runs `deno <args>` in the repository root and returns its stdout; throws on a non-zero exit. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const command = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT_URL.pathname,
    stdin: "null",
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  if (code !== 0) {
    // The last lines of stderr (NO_COLOR is set), without table-breaking pipes, as one line.
    const detail = new TextDecoder().decode(stderr).trim().split("\n").slice(-3)
      .join(" / ").replaceAll("|", "/");
    throw new Error(
      `Cannot run "deno ${args.join(" ")}": exit code ${code}: ${detail}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/** Throws unless `stdout` is JSON with `message` equal to `expected`. */
function expectJson(stdout: string, expected: string): void {
  let message: unknown;
  try {
    message = (JSON.parse(stdout) as { message?: unknown }).message;
  } catch {
    message = undefined;
  }
  if (message !== expected) {
    throw new Error(
      `Cannot trust this sample: expected a JSON output with message "${expected}", found ${stdout}`,
    );
  }
}
