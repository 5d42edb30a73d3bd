/**
 * What does a fresh isolate per step cost? A bare Worker (every permission denied, first message,
 * terminate) against stepbox's default `step` isolation through a warm sandbox host.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
import { connect, RAW_WORKER_URL, startWorker } from "./_workers.ts";
import { addHelloStepTask } from "./_stepbox.ts";

const INPUTS = Object.freeze({ name: "bench" });

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
 * let rows;
 * try {
 *   rows = await group.tasks[0]!.measure();
 * } finally {
 *   await group.close();
 * }
 * assert.equal(rows[0]?.state, "measured");
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

  // One executor for the whole task: its host process stays warm, as in a long-lived service;
  // each sample still gets a fresh worker, which is what `step` isolation promises.
  await addHelloStepTask(group, "isolated-step", {
    isolation: "step",
    profile: "spawn",
  });
}
