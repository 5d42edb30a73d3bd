import assert from "node:assert/strict";
import { createExecutor, detectRuntime } from "../../src/sandbox/select.ts";
import type { Isolation } from "../../src/types.ts";

Deno.test("detectRuntime() reports deno here, every time", () => {
  assert.equal(detectRuntime(), "deno");
  assert.equal(detectRuntime(), detectRuntime());
});

Deno.test("createExecutor() creates the inline executor without loading the sandbox", async () => {
  await using executor = await createExecutor("inline");
  assert.deepEqual(executor.info, {
    isolation: "inline",
    runtime: "deno",
    enforcesPermissions: false,
  });
});

Deno.test("createExecutor() rejects an unknown isolation mode", async () => {
  await assert.rejects(
    createExecutor("thread" as Isolation),
    /unknown isolation "thread"; use "step", "pool" or "inline"/,
  );
});
