/**
 * What does a long run cost? 100 steps, each templated on the previous step's output
 * (`value: "{{ value }}"` into a step that adds one), on `pool` and on `step` isolation.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
import { expectOutput, FIXTURES_URL, loadRunner } from "./_stepbox.ts";

const LENGTH = 100;
const STEPS = Array.from(
  { length: LENGTH },
  () => ({ "./increment.ts#increment": { value: "{{ value }}" } }),
);

/**
 * Registers `pipeline-100-pool` and `pipeline-100-isolated`.
 *
 * @example Registration without a filter match does nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { pipelineBench } from "./pipeline_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "no-such-task" });
 * await pipelineBench(group);
 * assert.equal(group.tasks.length + group.missing.length, 0);
 * ```
 */
export async function pipelineBench(group: BenchGroup): Promise<void> {
  for (
    const [name, isolation, profile] of [
      ["pipeline-100-pool", "pool", "spawn"],
      ["pipeline-100-isolated", "step", "pipeline"],
    ] as const
  ) {
    if (!group.wants(name)) continue;
    const runner = await loadRunner(isolation);
    if (!runner.ok) {
      group.unavailable(name, runner.reason);
      continue;
    }
    const { runSteps, createExecutor } = runner.value;
    const executor = group.scoped(createExecutor, (value) => value.close());
    group.add(name, profile, async () => {
      const outputs = await runSteps(STEPS, {
        executor: executor.value,
        baseUrl: FIXTURES_URL,
        upstreamOutputs: { value: 0 },
      });
      expectOutput(outputs, "value", LENGTH);
    }, { async: true, ...executor.hooks });
  }
}
