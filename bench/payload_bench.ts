/**
 * What does a large payload cost? 1 MB of JSON-shaped data through `JSON.stringify` + `JSON.parse`
 * (the floor), and in and out of a warm `pool` step.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
import { makePayload } from "./_inputs.ts";
import { expectOutput, FIXTURES_URL, loadRunner } from "./_stepbox.ts";

/**
 * Registers `json-roundtrip-1mb` and `payload-1mb-pool`.
 *
 * @example The floor alone
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { payloadBench } from "./payload_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "json-roundtrip-1mb" });
 * await payloadBench(group);
 * for (const task of group.tasks) await task.measure();
 * await group.close();
 * assert.equal(group.tasks.length, 1);
 * ```
 */
export async function payloadBench(group: BenchGroup): Promise<void> {
  if (!group.wants("json-roundtrip-1mb", "payload-1mb-pool")) return;
  const payload = makePayload(1_000_000);
  const itemCount = payload.items.length;

  group.add(
    "json-roundtrip-1mb",
    "fast",
    () => JSON.parse(JSON.stringify(payload)),
    { async: false },
  );

  if (!group.wants("payload-1mb-pool")) return;
  const runner = await loadRunner("pool");
  if (!runner.ok) {
    group.unavailable("payload-1mb-pool", runner.reason);
    return;
  }
  const { runSteps, createExecutor } = runner.value;
  const steps = [{ "./echo.ts#echo": { payload } }];
  const executor = group.scoped(createExecutor, (value) => value.close());
  group.add("payload-1mb-pool", "fast", async () => {
    const outputs = await runSteps(steps, {
      executor: executor.value,
      baseUrl: FIXTURES_URL,
    });
    const echoed = outputs.payload as { items?: unknown[] } | undefined;
    expectOutput({ items: echoed?.items?.length }, "items", itemCount);
  }, { async: true, ...executor.hooks });
}
