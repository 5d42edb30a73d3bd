/**
 * One test per shared conformance vector, run with the inline executor, and the vectors that
 * call steps (run_step, run_steps) once more through the sandbox in `step` and `pool`
 * isolation. When the vectors are not next to the repository, one ignored test says so (it
 * never counts as passed).
 */
import assert from "node:assert/strict";
import {
  type ConformanceCase,
  CONTRADICTS_DESIGN,
  DEFAULT_CONFORMANCE_DIR,
  defaultFixturesUrl,
  directoryExists,
  loadConformanceCases,
  runConformanceCase,
} from "../scripts/_conformance_runner.ts";
import { createInlineExecutor } from "../src/sandbox/inline.ts";
import type { Executor } from "../src/sandbox/executor.ts";
import { createSandboxExecutor } from "../src/sandbox/host_client.ts";

if (!directoryExists(DEFAULT_CONFORMANCE_DIR)) {
  Deno.test({
    name:
      `conformance vectors NOT FOUND at ${DEFAULT_CONFORMANCE_DIR.pathname}: no vector was run`,
    ignore: true,
    fn() {},
  });
} else {
  const fixturesUrl = defaultFixturesUrl(DEFAULT_CONFORMANCE_DIR);
  const assertCase = async (one: ConformanceCase, executor: Executor) => {
    const result = await runConformanceCase(one, { fixturesUrl, executor });
    assert.ok(
      result.ok,
      result.ok ? "" : `expected ${result.expected}\nactual   ${result.actual}`,
    );
  };
  for (const one of loadConformanceCases(DEFAULT_CONFORMANCE_DIR)) {
    const conflict = CONTRADICTS_DESIGN[one.name];
    Deno.test({
      name: conflict === undefined
        ? `conformance ${one.kind} ${one.name}`
        : `conformance ${one.kind} ${one.name} gives DESIGN.md's result (the vector ${conflict.reason})`,
      async fn() {
        await using executor = createInlineExecutor();
        await assertCase(one, executor);
      },
    });
  }

  const runCases = loadConformanceCases(DEFAULT_CONFORMANCE_DIR).filter((one) =>
    one.kind === "run_step" || one.kind === "run_steps"
  );
  for (const isolation of ["step", "pool"] as const) {
    Deno.test(`conformance run vectors pass in the sandbox with isolation "${isolation}"`, async (t) => {
      await using executor = createSandboxExecutor({ isolation });
      assert.ok(runCases.length > 0, "no run vectors found");
      for (const one of runCases) {
        await t.step(one.name, () => assertCase(one, executor));
      }
    });
  }
}
