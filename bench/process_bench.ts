/**
 * What does a whole process cost? `deno run` of an empty file (the floor), of a one-step script
 * (the process-per-step design), and the CLI running a one-step file end to end.
 *
 * Every process starts in the repository root, so all three find the same `deno.json`.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
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
 * for (const task of group.tasks) await task.bench.run();
 * assert.equal(group.tasks[0]?.bench.tasks[0]?.result.state, "completed");
 * ```
 */
export async function processBench(group: BenchGroup): Promise<void> {
  group.add("deno-run-empty", "process", () => run(["run", EMPTY.pathname]), {
    async: true,
  });

  group.add("subprocess-per-step", "process", async () => {
    const stdout = await run(["run", ONE_STEP.pathname, "bench"]);
    expectJson(stdout, "hello bench");
  }, { async: true });

  if (!group.wants("cli-hello")) return;
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
    return;
  }
  // A run of a file run before (the usual case: the launch cache starts its sandbox host at
  // once), in a cache of the task's own; and every run as a first run, with the cache off.
  const cache = group.scoped(
    () => Deno.makeTempDir({ prefix: "stepbox-bench-launch-" }),
    (dir) => Deno.remove(dir, { recursive: true }),
  );
  group.add("cli-hello", "process", async () => {
    expectJson(
      await run(cliArgs, { STEPBOX_CACHE_DIR: cache.value }),
      "hello bench",
    );
  }, { async: true, ...cache.hooks });
  group.add("cli-hello-cold", "process", async () => {
    expectJson(
      await run(cliArgs, { STEPBOX_LAUNCH_CACHE: "0" }),
      "hello bench",
    );
  }, { async: true });
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
