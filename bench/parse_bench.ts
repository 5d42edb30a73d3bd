/**
 * What does loading a large step file cost? The `yaml` package and js-yaml (the fast reference) on
 * a generated 10,000-step file, against stepbox's read + parse + validate.
 *
 * @module
 */

import YAML from "yaml";
import jsYaml from "js-yaml";
import type { BenchGroup } from "./_group.ts";
import { makeStepFileText } from "./_inputs.ts";
import { loadExport } from "./_stepbox.ts";

const STEP_COUNT = 10_000;

/**
 * Registers `yaml-parse-10k`, `js-yaml-parse-10k` and `load-10k-steps`.
 *
 * @example Nothing is built when the filter matches no task
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { parseBench } from "./parse_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "no-such-task" });
 * await parseBench(group);
 * assert.equal(group.tasks.length, 0);
 * ```
 */
export async function parseBench(group: BenchGroup): Promise<void> {
  if (!group.wants("yaml-parse-10k", "js-yaml-parse-10k", "load-10k-steps")) {
    return;
  }
  const text = makeStepFileText(STEP_COUNT);

  group.add("yaml-parse-10k", "heavy", () => expectSteps(YAML.parse(text)), {
    async: false,
  });
  group.add(
    "js-yaml-parse-10k",
    "heavy",
    () => expectSteps(jsYaml.load(text)),
    {
      async: false,
    },
  );

  if (!group.wants("load-10k-steps")) return;
  const loaded = await loadExport(
    "src/io/load_step_file.ts",
    "loadStepFile",
    () => import("../src/io/load_step_file.ts"),
  );
  if (!loaded.ok) {
    group.unavailable("load-10k-steps", loaded.reason);
    return;
  }
  const loadStepFile = loaded.value;
  const dir = await Deno.makeTempDir({ prefix: "stepbox-bench-" });
  group.defer(() => Deno.remove(dir, { recursive: true }));
  const path = `${dir}/prefect.yaml`;
  await Deno.writeTextFile(path, text);
  group.add("load-10k-steps", "heavy", async () => {
    const file = await loadStepFile(path);
    expectSteps({ pull: file.sections.pull });
  }, { async: true });
}

/** Throws unless `document` has a `pull` list of {@linkcode STEP_COUNT} steps. */
function expectSteps(document: unknown): void {
  const pull = (document as { pull?: unknown[] } | null)?.pull;
  if (pull?.length !== STEP_COUNT) {
    throw new Error(
      `Cannot trust this sample: expected ${STEP_COUNT} steps, found ${pull?.length}`,
    );
  }
}
