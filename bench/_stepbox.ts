/**
 * Loads the stepbox modules a task measures, or says why the task is not available.
 *
 * The imports are dynamic so that a missing or broken module costs one task, never the whole run;
 * their specifiers are literal so `deno check` still types every call.
 *
 * @module
 */

import type { Step } from "../src/types.ts";
import type { Executor } from "../src/sandbox/executor.ts";
import type { BenchGroup, ProfileName } from "./_group.ts";

/** A loaded dependency, or the reason it could not be loaded. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The directory of the fixture step modules, as the `baseUrl` of a run. */
export const FIXTURES_URL: URL = new URL("./fixtures/", import.meta.url);

/** The repository root (where `deno.json` is), for the processes the benches start. */
export const ROOT_URL: URL = new URL("../", import.meta.url);

/** Runs steps: the shape of `runSteps` that the benches use. */
export type RunStepsFn = (
  steps: Step[],
  options: {
    executor: Executor;
    baseUrl: URL;
    upstreamOutputs?: Record<string, unknown>;
  },
) => Promise<Record<string, unknown>>;

/**
 * Calls `load` and checks that `name` is a function on the result.
 *
 * @example Load a function export
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadExport } from "./_stepbox.ts";
 *
 * const loaded = await loadExport("bench/_inputs.ts", "makePayload", () => import("./_inputs.ts"));
 * assert.equal(loaded.ok, true);
 * ```
 */
export async function loadExport<M, K extends keyof M & string>(
  path: string,
  name: K,
  load: () => Promise<M>,
): Promise<Loaded<M[K]>> {
  let module: M;
  try {
    module = await load();
  } catch (error) {
    return { ok: false, reason: describeLoadError(path, error) };
  }
  const value = module[name];
  if (typeof value !== "function") {
    return { ok: false, reason: `${path} has no function export "${name}"` };
  }
  return { ok: true, value };
}

function describeLoadError(path: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Module not found/.test(message) && message.includes(path)) {
    return `${path} does not exist yet`;
  }
  const firstLine = message.split("\n")[0] ?? message;
  return `${path} does not load: ${firstLine}`;
}

/**
 * Loads what a run on one executor needs: `runSteps` (src/core/run_steps.ts) and the executor
 * factory (`createInlineExecutor` of src/sandbox/inline.ts, or `createSandboxExecutor` of
 * src/sandbox/host_client.ts); the reason names the first dependency that is missing.
 *
 * @example Inline
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadRunner } from "./_stepbox.ts";
 *
 * const runner = await loadRunner("inline");
 * assert.ok(runner.ok || runner.reason.startsWith("src/"));
 * ```
 */
export async function loadRunner(
  isolation: "inline" | "step" | "pool",
  sandboxOptions: { poolSize?: number } = {},
): Promise<Loaded<{ runSteps: RunStepsFn; createExecutor: () => Executor }>> {
  const runSteps = await loadExport(
    "src/core/run_steps.ts",
    "runSteps",
    () => import("../src/core/run_steps.ts"),
  );
  if (!runSteps.ok) return runSteps;
  if (isolation === "inline") {
    const inline = await loadExport(
      "src/sandbox/inline.ts",
      "createInlineExecutor",
      () => import("../src/sandbox/inline.ts"),
    );
    if (!inline.ok) return inline;
    return {
      ok: true,
      value: { runSteps: runSteps.value, createExecutor: inline.value },
    };
  }
  const sandbox = await loadExport(
    "src/sandbox/host_client.ts",
    "createSandboxExecutor",
    () => import("../src/sandbox/host_client.ts"),
  );
  if (!sandbox.ok) return sandbox;
  const create = sandbox.value;
  return {
    ok: true,
    value: {
      runSteps: runSteps.value,
      createExecutor: () => create({ ...sandboxOptions, isolation }),
    },
  };
}

/**
 * Throws unless `outputs[key]` is `expected`: every stepbox task checks its output once per
 * sample, so a task that silently does nothing cannot look fast.
 *
 * @example A wrong output
 * ```ts
 * import assert from "node:assert/strict";
 * import { expectOutput } from "./_stepbox.ts";
 *
 * expectOutput({ value: 100 }, "value", 100);
 * assert.throws(() => expectOutput({ value: 99 }, "value", 100), /output "value" is 99/);
 * ```
 */
export function expectOutput(
  outputs: Record<string, unknown>,
  key: string,
  expected: unknown,
): void {
  const actual = outputs[key];
  if (actual !== expected) {
    throw new Error(
      `Cannot trust this sample: output "${key}" is ${
        JSON.stringify(actual)
      }, expected ${JSON.stringify(expected)}`,
    );
  }
}

/** A new list holding the one step of the single-step tasks: `hello` from bench/fixtures/. */
function helloSteps(): Step[] {
  return [{ "./hello.ts#hello": { name: "bench" } }];
}

const HELLO_STEPS = helloSteps();

/**
 * Registers task `name`: `runSteps` of the one-step `hello` pipeline on one executor of
 * `isolation`, made before the first sample and kept for the whole task (its host stays warm,
 * as in a long-lived service). A missing module makes the task "not available".
 *
 * Every sample runs the same list of steps, as a service running its pipeline does, and so
 * reuses the plan of the first; with `newList`, each sample runs a list of its own, which is
 * validated and planned in full, as a list never run before is.
 *
 * @param group The group to add the task to.
 * @param name The task's name.
 * @param options The isolation, the sampling profile, and whether each sample has a new list.
 *
 * @example Usage
 * ```ts
 * import { BenchGroup } from "./_group.ts";
 * import { addHelloStepTask } from "./_stepbox.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: undefined });
 * await addHelloStepTask(group, "inline-step", { isolation: "inline", profile: "fast" });
 * ```
 */
export async function addHelloStepTask(
  group: BenchGroup,
  name: string,
  options: {
    isolation: "inline" | "step" | "pool";
    profile: ProfileName;
    newList?: boolean;
  },
): Promise<void> {
  if (!group.wants(name)) return;
  const runner = await loadRunner(options.isolation);
  if (!runner.ok) {
    group.unavailable(name, runner.reason);
    return;
  }
  const { runSteps, createExecutor } = runner.value;
  const executor = group.scoped(createExecutor, (value) => value.close());
  group.add(name, options.profile, async () => {
    const steps = options.newList === true ? helloSteps() : HELLO_STEPS;
    const outputs = await runSteps(steps, {
      executor: executor.value,
      baseUrl: FIXTURES_URL,
    });
    expectOutput(outputs, "message", "hello bench");
  }, { async: true, ...executor.hooks });
}
