/**
 * The shared registry that every `*_bench.ts` file adds its tasks to.
 *
 * Each task gets its own tinybench `Bench`: tinybench sets `time` and `iterations` per Bench, and a
 * spawn-per-sample task needs a different budget from a sub-microsecond call; a task that throws
 * (`throws: true`) then stops only itself, and the report says which one failed and why.
 *
 * @module
 */

import { Bench, type FnOptions, mToNs } from "tinybench";
import { type Row, rowFromTask } from "./_report.ts";

/** How long and how often a kind of task is sampled by default. */
export interface Profile {
  /** Time budget per task in milliseconds. */
  time: number;
  /** Minimum samples. */
  iterations: number;
  /** Warmup time budget in milliseconds. */
  warmupTime: number;
  /** Minimum warmup samples. */
  warmupIterations: number;
}

/** The sampling profiles, by the cost of one sample. */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  /** Microseconds to a few milliseconds per sample. */
  fast: { time: 1000, iterations: 64, warmupTime: 250, warmupIterations: 16 },
  /** Tens to hundreds of milliseconds of CPU per sample (parsing megabytes of YAML). */
  heavy: { time: 1500, iterations: 5, warmupTime: 0, warmupIterations: 1 },
  /** A Worker start per sample (~10–30 ms). */
  spawn: { time: 1500, iterations: 24, warmupTime: 100, warmupIterations: 4 },
  /** A process start per sample (~25–150 ms). */
  process: { time: 1500, iterations: 10, warmupTime: 0, warmupIterations: 2 },
  /** A whole 100-step run per sample (up to a few seconds). */
  pipeline: { time: 1000, iterations: 3, warmupTime: 0, warmupIterations: 1 },
});

/** The name of a sampling profile. */
export type ProfileName = "fast" | "heavy" | "spawn" | "process" | "pipeline";

/** Options every group receives from `bench/main.ts`. */
export interface GroupOptions {
  /** Time budget per task in milliseconds; `undefined` keeps each profile's default. */
  time: number | undefined;
  /** Only tasks whose name contains this substring are registered. */
  filter: string | undefined;
  /** Only these tasks are registered. @default every task */
  only?: readonly string[];
}

/** A task that could not be registered: its dependency is missing or does not work yet. */
export interface Unavailable {
  name: string;
  reason: string;
}

/** One registered task (or several measured together), ready to measure. */
export interface GroupTask {
  name: string;
  /** Measures the task; one row per task measured. A task that throws gives a failed row. */
  measure(): Promise<Row[]>;
  /** Releases what the task used; the runner calls it once the task is measured. */
  after?: () => unknown;
}

/** What a task does with a {@linkcode BenchGroup.scoped} resource: make it, then release it. */
export interface ScopedHooks {
  beforeAll(): Promise<void>;
  after(): Promise<void>;
}

/** A task measured in rounds with others: see {@linkcode BenchGroup.addInRounds}. */
export interface RoundTask {
  name: string;
  fn: () => Promise<unknown>;
  /** What it uses, from {@linkcode BenchGroup.scoped}: made before the first round, released
   * after the last. */
  hooks?: ScopedHooks;
}

/**
 * Collects the tasks of one group, the tasks it could not register, and what to release afterwards.
 *
 * @example Register and run one task
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 *
 * const group = new BenchGroup({ time: 5, filter: undefined });
 * group.add("sum", "fast", () => 1 + 1, { async: false });
 * group.unavailable("later", "its module does not exist yet");
 * const [row] = await group.tasks[0]!.measure();
 * await group.close();
 * assert.equal(row?.state, "measured");
 * assert.deepEqual(group.missing, [{ name: "later", reason: "its module does not exist yet" }]);
 * ```
 */
export class BenchGroup {
  readonly #options: GroupOptions;
  readonly #tasks: GroupTask[] = [];
  readonly #missing: Unavailable[] = [];
  readonly #cleanups: (() => unknown)[] = [];

  constructor(options: GroupOptions) {
    this.#options = options;
  }

  /** The registered tasks, in order. */
  get tasks(): readonly GroupTask[] {
    return this.#tasks;
  }

  /** The tasks that could not be registered, with the reason. */
  get missing(): readonly Unavailable[] {
    return this.#missing;
  }

  /** Whether `name` passes the filter; a group skips the setup of tasks that do not. */
  wants(...names: string[]): boolean {
    const { filter, only } = this.#options;
    return names.some((name) =>
      (filter === undefined || name.includes(filter)) &&
      (only === undefined || only.includes(name))
    );
  }

  /**
   * Registers `fn` as task `name`, sampled with `profile` (scaled to `--time` when given).
   * `fnOptions.async` is required: without it tinybench calls `fn` once at registration to find
   * out, before `beforeAll` has set anything up.
   */
  add(
    name: string,
    profile: ProfileName,
    fn: () => unknown,
    fnOptions: FnOptions & { async: boolean; after?: () => unknown },
  ): void {
    if (!this.wants(name)) return;
    const { after, ...benchOptions } = fnOptions;
    const bench = new Bench({
      name,
      throws: true,
      ...scaledProfile(PROFILES[profile], this.#options.time),
    });
    bench.add(name, fn, benchOptions);
    const measure = async () => {
      await bench.run();
      return bench.tasks.map(rowFromTask);
    };
    this.#tasks.push(
      after === undefined ? { name, measure } : { name, measure, after },
    );
  }

  /**
   * Registers tasks that are measured in turn, one sample of each per round, until every one
   * has had `profile`'s budget: a ratio between them then compares samples taken side by side,
   * which the machine's drift over the run cannot move (process starts on a shared VM drift by
   * 10% within a minute). Each sample is one tinybench run of one iteration; a task that throws
   * stops, with a failed row, while the others go on.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BenchGroup } from "./_group.ts";
   *
   * const group = new BenchGroup({ time: 5, filter: undefined });
   * const order: string[] = [];
   * group.addInRounds("process", [
   *   { name: "a", fn: () => Promise.resolve(order.push("a")) },
   *   { name: "b", fn: () => Promise.reject(new Error("no b")) },
   *   { name: "c", fn: () => Promise.resolve(order.push("c")) },
   * ]);
   * const rows = await group.tasks[0]!.measure();
   * assert.deepEqual(rows.map((row) => row.state), ["measured", "failed", "measured"]);
   * assert.deepEqual(order.slice(0, 4), ["a", "c", "a", "c"]);
   * ```
   */
  addInRounds(profile: ProfileName, tasks: readonly RoundTask[]): void {
    const wanted = tasks.filter((task) => this.wants(task.name));
    if (wanted.length === 0) return;
    const budget = scaledProfile(PROFILES[profile], this.#options.time);
    const release = async () => {
      for (const task of wanted) await task.hooks?.after();
    };
    this.#tasks.push({
      name: wanted.map((task) => task.name).join(", "),
      measure: () => measureInRounds(wanted, budget),
      after: release,
    });
  }

  /** Lists `name` as not available, with the reason, instead of measuring it. */
  unavailable(name: string, reason: string): void {
    if (this.wants(name)) this.#missing.push({ name, reason });
  }

  /**
   * A resource one task uses: made before its first sample, released once the task is measured
   * (so that the tasks after it do not run beside its processes and workers), or when the group
   * closes should the run stop in between. Pass `hooks` to {@linkcode BenchGroup.add}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BenchGroup } from "./_group.ts";
   *
   * const group = new BenchGroup({ time: 1, filter: undefined });
   * const released: number[] = [];
   * const resource = group.scoped(() => 7, (value) => void released.push(value));
   * group.add("uses-it", "fast", () => assert.equal(resource.value, 7), {
   *   async: false,
   *   ...resource.hooks,
   * });
   * for (const task of group.tasks) {
   *   await task.measure();
   *   await task.after?.();
   * }
   * assert.deepEqual(released, [7]);
   * await group.close();
   * assert.deepEqual(released, [7]);
   * ```
   */
  scoped<T>(
    make: () => T | Promise<T>,
    release: (value: T) => unknown,
  ): {
    readonly value: T;
    readonly hooks: ScopedHooks;
  } {
    let current: { value: T } | undefined;
    const releaseCurrent = async () => {
      if (current === undefined) return;
      const { value } = current;
      current = undefined;
      await release(value);
    };
    this.defer(releaseCurrent);
    return {
      get value(): T {
        if (current === undefined) {
          throw new Error(
            "Cannot use a scoped bench resource outside its task",
          );
        }
        return current.value;
      },
      hooks: {
        beforeAll: async () => {
          current ??= { value: await make() };
        },
        after: releaseCurrent,
      },
    };
  }

  /** Runs `cleanup` when the group closes (in reverse order of registration). */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** Releases everything the group started; every cleanup runs even if one fails. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(
        errors,
        "Cannot release the benchmark resources",
      );
    }
  }
}

/**
 * A profile under a `--time` budget: the time replaces the default, and the minimum sample counts
 * shrink in proportion (never below 2 samples and 1 warmup), so a tiny CI budget stays quick.
 */
function scaledProfile(profile: Profile, time: number | undefined): Profile {
  if (time === undefined) return { ...profile };
  const scale = Math.min(1, time / profile.time);
  return {
    time,
    iterations: Math.max(2, Math.round(profile.iterations * scale)),
    warmupTime: Math.min(profile.warmupTime, time),
    warmupIterations: Math.max(1, Math.round(profile.warmupIterations * scale)),
  };
}

async function measureInRounds(
  tasks: readonly RoundTask[],
  budget: Profile,
): Promise<Row[]> {
  const samples = new Map(tasks.map((task) => [task.name, [] as number[]]));
  const failures = new Map<string, string>();
  const live = () => tasks.filter((task) => !failures.has(task.name));
  const fail = (task: RoundTask, error: unknown) =>
    failures.set(
      task.name,
      error instanceof Error ? error.message : String(error),
    );
  const sample = async (task: RoundTask, timed: boolean) => {
    const bench = new Bench({
      name: task.name,
      throws: true,
      time: 0,
      iterations: 1,
      warmup: false,
      retainSamples: true,
    });
    bench.add(task.name, task.fn, { async: true });
    try {
      await bench.run();
    } catch (error) {
      fail(task, error);
      return;
    }
    const taken = bench.tasks[0]?.result;
    if (timed && taken !== undefined && "latency" in taken) {
      samples.get(task.name)!.push(...(taken.latency.samples ?? []));
    }
  };
  for (const task of tasks) {
    try {
      await task.hooks?.beforeAll();
    } catch (error) {
      fail(task, error);
    }
  }
  for (let round = 0; round < budget.warmupIterations; round++) {
    for (const task of live()) await sample(task, false);
  }
  const started = performance.now();
  for (
    let round = 0;
    live().length > 0 &&
    (round < budget.iterations ||
      performance.now() - started < budget.time * tasks.length);
    round++
  ) {
    for (const task of live()) await sample(task, true);
  }
  return tasks.map((task): Row => {
    const failure = failures.get(task.name);
    if (failure !== undefined) {
      return { name: task.name, state: "failed", reason: failure };
    }
    const sorted = samples.get(task.name)!.sort((a, b) => a - b);
    const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
    return {
      name: task.name,
      state: "measured",
      p50Ns: Math.round(mToNs(quantile(sorted, 0.5))),
      meanNs: Math.round(mToNs(mean)),
      p99Ns: Math.round(mToNs(quantile(sorted, 0.99))),
      samples: sorted.length,
    };
  });
}

/** The `q` quantile of sorted milliseconds, interpolated as tinybench does. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return low + (position - below) * (high - low);
}
