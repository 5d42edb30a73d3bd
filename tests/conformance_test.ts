/**
 * One test per shared conformance vector, run with the inline executor. When the vectors are
 * not next to the repository, one ignored test says so (it never counts as passed).
 */
import assert from "node:assert/strict";
import {
  CONTRADICTS_DESIGN,
  DEFAULT_CONFORMANCE_DIR,
  defaultFixturesUrl,
  directoryExists,
  loadConformanceCases,
  runConformanceCase,
} from "../scripts/_conformance_runner.ts";
import { createInlineExecutor } from "../src/sandbox/inline.ts";

if (!directoryExists(DEFAULT_CONFORMANCE_DIR)) {
  Deno.test({
    name:
      `conformance vectors NOT FOUND at ${DEFAULT_CONFORMANCE_DIR.pathname}: no vector was run`,
    ignore: true,
    fn() {},
  });
} else {
  const fixturesUrl = defaultFixturesUrl(DEFAULT_CONFORMANCE_DIR);
  for (const one of loadConformanceCases(DEFAULT_CONFORMANCE_DIR)) {
    const conflict = CONTRADICTS_DESIGN[one.name];
    Deno.test({
      name: conflict === undefined
        ? `conformance ${one.kind} ${one.name}`
        : `conformance ${one.kind} ${one.name} gives DESIGN.md's result (the vector ${conflict.reason})`,
      async fn() {
        await using executor = createInlineExecutor();
        const result = await runConformanceCase(one, {
          fixturesUrl,
          executor,
        });
        assert.ok(
          result.ok,
          result.ok
            ? ""
            : `expected ${result.expected}\nactual   ${result.actual}`,
        );
      },
    });
  }
}
