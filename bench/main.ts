// deno-lint-ignore-file no-console -- the benchmark runner's job is to print its table.
/**
 * Runs every benchmark group in one process and prints one table: each task's p50, mean, p99 and
 * sample count, and for each stepbox task the ratio to its floor and its target.
 *
 * ```sh
 * deno task bench                          # the whole suite, default budgets (under 3 minutes on 2 cores)
 * deno task bench --time 20 --json b.json  # a tiny budget (CI), and every task's figures as JSON
 * deno task bench --filter pool            # only the tasks whose name contains "pool"
 * ```
 *
 * The round-trip tasks ({@linkcode PINNED_TASKS}) also run in a child process under `taskset -c 0`,
 * which pins the parent, the sandbox host and every worker to one CPU; those rows end in `-pinned`.
 * The child is this same file with `--pinned-child TASKS`.
 *
 * @module
 */

import { BenchGroup, type GroupOptions } from "./_group.ts";
import {
  fromJson,
  type JsonEntry,
  renderReport,
  type Row,
  sortRows,
  toJson,
} from "./_report.ts";
import { PINNED_SUFFIX, TASK_ORDER } from "./_targets.ts";
import { ROOT_URL } from "./_stepbox.ts";
import { PINNED_TASKS, roundtripBench } from "./roundtrip_bench.ts";
import { payloadBench } from "./payload_bench.ts";
import { templatingBench } from "./templating_bench.ts";
import { parseBench } from "./parse_bench.ts";
import { spawnBench } from "./spawn_bench.ts";
import { pipelineBench } from "./pipeline_bench.ts";
import { processBench } from "./process_bench.ts";

const USAGE =
  `Usage: deno task bench [--time MS] [--filter SUBSTRING] [--json FILE]

  --time MS            time budget per task in milliseconds (default: per kind of task, 1000-1500)
  --filter SUBSTRING   run only the tasks whose name contains SUBSTRING
  --json FILE          write { "<task>": { "p50_ns", "mean_ns", "p99_ns", "samples" } } for every task
  --pinned-child LIST  (internal) run only these round-trip tasks, comma-separated; main.ts starts
                       it under "taskset -c 0"`;

interface Args {
  time: number | undefined;
  filter: string | undefined;
  json: string | undefined;
  pinnedChild: string[] | undefined;
}

class UsageError extends Error {
  override name = "UsageError";
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    time: undefined,
    filter: undefined,
    json: undefined,
    pinnedChild: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === "--help" || flag === "-h") throw new UsageError("");
    const [name, inline] = flag.startsWith("--") && flag.includes("=")
      ? [flag.slice(0, flag.indexOf("=")), flag.slice(flag.indexOf("=") + 1)]
      : [flag, undefined];
    if (!["--time", "--filter", "--json", "--pinned-child"].includes(name)) {
      throw new UsageError(
        `Cannot use argument "${flag}": expected --time, --filter, --json or --help`,
      );
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      throw new UsageError(`Cannot use "${name}" without a value`);
    }
    switch (name) {
      case "--time": {
        const time = Number(value);
        if (!Number.isFinite(time) || time <= 0) {
          throw new UsageError(
            `Cannot use --time "${value}": expected a positive number of milliseconds`,
          );
        }
        args.time = time;
        break;
      }
      case "--filter":
        args.filter = value;
        break;
      case "--json":
        args.json = value;
        break;
      default:
        args.pinnedChild = value.split(",").filter((task) => task !== "");
    }
  }
  return args;
}

/** The groups, in the order they run; each is set up, run and closed before the next starts. */
const GROUPS: readonly ((group: BenchGroup) => Promise<void>)[] = [
  roundtripBench,
  payloadBench,
  templatingBench,
  parseBench,
  spawnBench,
  pipelineBench,
  processBench,
];

/** Sets up, runs and closes one group; a task that throws becomes a failed row, the rest still run. */
async function runGroup(
  register: (group: BenchGroup) => Promise<void>,
  options: GroupOptions,
  cleanupFailures: string[],
): Promise<Row[]> {
  const group = new BenchGroup(options);
  const rows: Row[] = [];
  try {
    await register(group);
    for (const task of group.tasks) {
      progress(`running ${task.name}`);
      try {
        rows.push(...await task.measure());
      } catch (error) {
        rows.push({
          name: task.name,
          state: "failed",
          reason: errorText(error),
        });
      } finally {
        // The next task must not run beside this one's sandbox hosts.
        try {
          await task.after?.();
        } catch (error) {
          cleanupFailures.push(errorText(error));
          progress(
            `cannot release ${task.name}'s resources: ${errorText(error)}`,
          );
        }
      }
    }
    for (const missing of group.missing) {
      rows.push({
        name: missing.name,
        state: "unavailable",
        reason: missing.reason,
      });
    }
  } finally {
    try {
      await group.close();
    } catch (error) {
      // Reported, and it fails the run, but the next groups still run.
      cleanupFailures.push(errorText(error));
      progress(`cannot release a group's resources: ${errorText(error)}`);
    }
  }
  return rows;
}

/** Runs the pinned round trips in a child process on CPU 0 and returns its rows, renamed `-pinned`. */
async function runPinned(args: Args): Promise<Row[]> {
  const tasks = PINNED_TASKS.filter((task) =>
    args.filter === undefined || (task + PINNED_SUFFIX).includes(args.filter)
  );
  if (tasks.length === 0) return [];
  const failAll = (reason: string): Row[] =>
    tasks.map((task) => ({
      name: task + PINNED_SUFFIX,
      state: "unavailable",
      reason,
    }));
  if (Deno.build.os !== "linux") {
    return failAll(`taskset is Linux-only (this is ${Deno.build.os})`);
  }
  const dir = await Deno.makeTempDir({ prefix: "stepbox-bench-" });
  try {
    const json = `${dir}/pinned.json`;
    const childArgs = [
      "-c",
      "0",
      Deno.execPath(),
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
    ];
    childArgs.push("--pinned-child", tasks.join(","), "--json", json);
    if (args.time !== undefined) childArgs.push("--time", String(args.time));
    progress(
      `running ${
        tasks.join(", ")
      } pinned to CPU 0 (taskset -c 0, child process)`,
    );
    let code: number;
    try {
      const child = new Deno.Command("taskset", {
        args: childArgs,
        cwd: ROOT_URL.pathname,
        stdout: "inherit",
      });
      code = (await child.output()).code;
    } catch (error) {
      return failAll(
        error instanceof Deno.errors.NotFound
          ? "taskset is not installed"
          : errorText(error),
      );
    }
    let text: string;
    try {
      text = await Deno.readTextFile(json);
    } catch {
      return failAll(
        `the pinned child process exited with code ${code} before writing its results`,
      );
    }
    return fromJson(
      JSON.parse(text) as Record<string, JsonEntry>,
      PINNED_SUFFIX,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function machine(): Promise<string> {
  let cpu = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpu;
  } catch {
    // Not Linux: the model name is a nicety.
  }
  return `${navigator.hardwareConcurrency} vCPU (${cpu}), ${Deno.build.os} ${Deno.osRelease()}, ` +
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`;
}

function progress(line: string): void {
  console.error(`bench: ${line}`);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error
    ? ` (cause: ${error.cause.message})`
    : "";
  return `${error.name}: ${error.message}${cause}`.split("\n")[0] as string;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message === "") {
      console.log(USAGE);
      return 0;
    }
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }

  const options: GroupOptions = { time: args.time, filter: args.filter };
  const started = performance.now();
  const rows: Row[] = [];
  const cleanupFailures: string[] = [];
  if (args.pinnedChild !== undefined) {
    const only = { time: args.time, filter: undefined, only: args.pinnedChild };
    rows.push(...await runGroup(roundtripBench, only, cleanupFailures));
  } else {
    for (const [index, group] of GROUPS.entries()) {
      rows.push(...await runGroup(group, options, cleanupFailures));
      // Right after the round trips, while nothing else of the run is alive.
      if (index === 0) rows.push(...await runPinned(args));
    }
  }

  if (rows.length === 0 && args.pinnedChild === undefined) {
    console.error(
      `Cannot run any task: none has a name containing "${args.filter}"; task names: ${
        TASK_ORDER.join(", ")
      }`,
    );
    return 2;
  }

  if (args.json !== undefined) {
    await Deno.writeTextFile(
      args.json,
      JSON.stringify(toJson(sortRows(rows)), null, 2) + "\n",
    );
  }
  if (args.pinnedChild !== undefined) {
    return rows.some((row) => row.state === "failed") ||
        cleanupFailures.length > 0
      ? 1
      : 0;
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(renderReport(rows));
  console.log(`\nMachine: ${await machine()}. Whole run: ${seconds} s.`);
  if (args.json !== undefined) console.log(`Wrote every task to ${args.json}.`);
  const failed = rows.filter((row) => row.state === "failed");
  if (cleanupFailures.length > 0) return 1;
  if (failed.length > 0) {
    console.error(
      `bench: ${failed.length} task(s) failed: ${
        failed.map((row) => row.name).join(", ")
      }`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
