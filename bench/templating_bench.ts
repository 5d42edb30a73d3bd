/**
 * What does templating a large input cost? `applyValues` on a 1 MB nested template holding a few
 * hundred placeholders (whole-string, inline and key-path ones); its floor is `json-roundtrip-1mb`.
 *
 * @module
 */

import type { BenchGroup } from "./_group.ts";
import { makeTemplate } from "./_inputs.ts";
import { loadExport } from "./_stepbox.ts";

/**
 * Registers `apply-values-1mb`.
 *
 * @example Nothing is built when the filter matches no task
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { templatingBench } from "./templating_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "no-such-task" });
 * await templatingBench(group);
 * assert.equal(group.tasks.length, 0);
 * ```
 */
export async function templatingBench(group: BenchGroup): Promise<void> {
  if (!group.wants("apply-values-1mb")) return;
  const loaded = await loadExport(
    "src/core/templating.ts",
    "applyValues",
    () => import("../src/core/templating.ts"),
  );
  if (!loaded.ok) {
    group.unavailable("apply-values-1mb", loaded.reason);
    return;
  }
  const applyValues = loaded.value;
  const { template, values } = makeTemplate(1_000_000, 300);
  const expected = JSON.stringify(values.value_0);
  group.add("apply-values-1mb", "fast", () => {
    const result = applyValues(template, values) as {
      items: { name: unknown }[];
    };
    if (JSON.stringify(result.items[0]?.name) !== expected) {
      throw new Error(
        "Cannot trust this sample: the first placeholder was not replaced",
      );
    }
  }, { async: false });
}
