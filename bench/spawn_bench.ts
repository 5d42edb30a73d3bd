/**
 * What does a fresh isolate per step cost? A bare Worker (every permission denied, first message,
 * terminate) against stepbox's default `step` isolation through a warm sandbox host.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
import { connect, RAW_WORKER_URL, startWorker } from "./_workers.ts";
import { expectOutput, FIXTURES_URL, loadRunner } from "./_stepbox.ts";
import type { Executor } from "../src/sandbox/executor.ts";

const INPUTS = Object.freeze({ name: "bench" });
const STEPS = [{ "./hello.ts#hello": { name: "bench" } }];

/**
 * Registers `bare-worker-spawn` and `isolated-step`.
 *
 * @example Spawn a few bare workers
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { spawnBench } from "./spawn_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "bare-worker-spawn" });
 * await spawnBench(group);
 * try {
 *   for (const task of group.tasks) await task.bench.run();
 * } finally {
 *   await group.close();
 * }
 * assert.equal(group.tasks[0]?.bench.tasks[0]?.result.state, "completed");
 * ```
 */
export async function spawnBench(group: BenchGroup): Promise<void> {
  group.add("bare-worker-spawn", "spawn", async () => {
    const worker = startWorker(RAW_WORKER_URL);
    try {
      await connect(worker)(INPUTS);
    } finally {
      worker.terminate();
    }
  }, { async: true });

  if (!group.wants("isolated-step")) return;
  const runner = await loadRunner("step");
  if (!runner.ok) {
    group.unavailable("isolated-step", runner.reason);
    return;
  }
  const { runSteps, createExecutor } = runner.value;
  let executor: Executor | undefined;
  group.add("isolated-step", "spawn", async () => {
    const outputs = await runSteps(STEPS, {
      executor: executor as Executor,
      baseUrl: FIXTURES_URL,
    });
    expectOutput(outputs, "message", "hello bench");
  }, {
    async: true,
    beforeAll() {
      // One executor for the whole task: its host process stays warm, as in a long-lived service;
      // each sample still gets a fresh worker, which is what `step` isolation promises.
      executor ??= createExecutor();
    },
  });
  group.defer(() => executor?.close());
}
