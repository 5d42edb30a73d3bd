import assert from "node:assert/strict";
import {
  OutputNotCloneableError,
  ReferenceResolutionError,
  StepTimeoutError,
} from "../../src/errors.ts";
import { createInlineExecutor } from "../../src/sandbox/inline.ts";
import type { CallOptions, StepTarget } from "../../src/sandbox/executor.ts";
import type { OutputChunk } from "../../src/types.ts";
import {
  callOptions,
  fixtureTarget,
  runExecutorSuite,
} from "./executor_suite.ts";

runExecutorSuite({
  name: "createInlineExecutor()",
  createExecutor: createInlineExecutor,
  skip: {
    timeout:
      "the inline executor cannot stop a synchronous endless loop; it would block the test thread",
    abort:
      "the inline executor cannot stop a synchronous endless loop; it would block the test thread",
    "dead worker": "the inline executor has no worker that could die",
    "printed output":
      "an inline step prints to this process's own console, which no call owns",
  },
});

Deno.test("createInlineExecutor() rejects a step that never settles at its timeout and on abort", async () => {
  await using executor = createInlineExecutor();
  const target = fixtureTarget("hangs.ts", "hangAsync");
  await assert.rejects(
    executor.call(target, {}, callOptions({ timeoutMs: 50 })),
    /timed out after 0\.05 s; the inline executor cannot stop its code/,
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(
    executor.call(target, {}, callOptions({ signal: controller.signal })),
    (error: Error) => error.name === "AbortError",
  );
});

function moduleUrl(source: string): string {
  return "data:text/javascript," + encodeURIComponent(source);
}

function target(
  source: string,
  exportName: string,
  builtin = false,
): StepTarget {
  return {
    reference: `ref.${exportName}`,
    specifier: moduleUrl(source),
    exportName,
    builtin,
  };
}

const CALL: CallOptions = {
  permissions: {},
  importMap: {},
  env: {},
  policy: { allow: {}, env: {} },
};

Deno.test("createInlineExecutor() describes itself as inline, unenforced, on Deno", async () => {
  await using executor = createInlineExecutor();
  assert.deepEqual(executor.info, {
    isolation: "inline",
    runtime: "deno",
    enforcesPermissions: false,
  });
});

Deno.test("createInlineExecutor() calls a user step with the inputs only", async () => {
  await using executor = createInlineExecutor();
  const output = await executor.call(
    target(
      "export function f(...args) { return { count: args.length, x: args[0].x }; }",
      "f",
    ),
    { x: 1 },
    CALL,
  );
  assert.deepEqual(output, { count: 1, x: 1 });
});

Deno.test("createInlineExecutor() gives a built-in the run's context", async () => {
  await using executor = createInlineExecutor();
  const chunks: OutputChunk[] = [];
  const output = await executor.call(
    target(
      `export async function b(inputs, context) {
         context.write("stdout", "hello");
         return { dir: context.workingDirectory, env: context.env, n: inputs.n };
       }`,
      "b",
      true,
    ),
    { n: 2 },
    {
      ...CALL,
      workingDirectory: "/srv",
      env: { LANG: "C" },
      onOutput: (c) => chunks.push(c),
    },
  );
  assert.deepEqual(output, { dir: "/srv", env: { LANG: "C" }, n: 2 });
  assert.deepEqual(chunks, [{ stream: "stdout", text: "hello" }]);
});

Deno.test("createInlineExecutor() names the reference, the specifier and the exports of a missing export", async () => {
  await using executor = createInlineExecutor();
  const t = target("export const a = () => 1; export function b() {}", "nope");
  await assert.rejects(executor.call(t, {}, CALL), (error: Error) => {
    assert.ok(error instanceof ReferenceResolutionError);
    assert.equal(error.reference, "ref.nope");
    assert.equal(error.specifier, t.specifier);
    assert.match(error.message, /has no export "nope" \(exports: "a", "b"\)/);
    return true;
  });
});

Deno.test("createInlineExecutor() refuses an export that is not a function", async () => {
  await using executor = createInlineExecutor();
  await assert.rejects(
    executor.call(target("export const value = 'x';", "value"), {}, CALL),
    (error: Error) =>
      error instanceof ReferenceResolutionError &&
      /is string, not a function/.test(error.message),
  );
});

Deno.test("createInlineExecutor() reports a module that fails to load", async () => {
  await using executor = createInlineExecutor();
  await assert.rejects(
    executor.call(target("export function (", "f"), {}, CALL),
    (error: Error) =>
      error instanceof ReferenceResolutionError &&
      /failed to load/.test(error.message),
  );
  await assert.rejects(
    executor.call(
      {
        reference: "x#f",
        specifier: new URL("./missing_module.ts", import.meta.url).href,
        exportName: "f",
        builtin: false,
      },
      {},
      CALL,
    ),
    ReferenceResolutionError,
  );
});

Deno.test("createInlineExecutor() names the key path of an output that cannot be cloned", async () => {
  await using executor = createInlineExecutor();
  await assert.rejects(
    executor.call(
      target("export const f = () => ({ items: [1, Symbol('s')] });", "f"),
      {},
      CALL,
    ),
    (error: Error) =>
      error instanceof OutputNotCloneableError &&
      error.keyPath === "items[1]" && error.message.includes('"items[1]"'),
  );
});

Deno.test("createInlineExecutor() copies inputs and outputs as a worker boundary would", async () => {
  await using executor = createInlineExecutor();
  const t = target(
    `const kept = { n: 1 };
     export function f(inputs) { inputs.nested.changed = true; setTimeout(() => { kept.n = 2; }, 0); return kept; }`,
    "f",
  );
  const inputs = { nested: { a: 1 } };
  const output = await executor.call(t, inputs, CALL) as { n: number };
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(inputs, { nested: { a: 1 } });
  assert.equal(output.n, 1);
});

Deno.test("createInlineExecutor() rejects at its timeout (the code itself cannot be stopped)", async () => {
  await using executor = createInlineExecutor();
  const started = performance.now();
  await assert.rejects(
    executor.call(
      target(
        "export const f = () => new Promise((r) => setTimeout(r, 300));",
        "f",
      ),
      {},
      { ...CALL, timeoutMs: 30 },
    ),
    (error: Error) =>
      error instanceof StepTimeoutError && error.timeoutMs === 30,
  );
  assert.ok(performance.now() - started < 250);
  await new Promise((resolve) => setTimeout(resolve, 300));
});

Deno.test("createInlineExecutor() rejects with the abort reason", async () => {
  await using executor = createInlineExecutor();
  const t = target(
    "export const f = () => new Promise((r) => setTimeout(r, 200));",
    "f",
  );
  const controller = new AbortController();
  const reason = new Error("cancelled");
  setTimeout(() => controller.abort(reason), 10);
  await assert.rejects(
    executor.call(t, {}, { ...CALL, signal: controller.signal }),
    (e) => e === reason,
  );
  await assert.rejects(
    executor.call(t, {}, { ...CALL, signal: AbortSignal.abort() }),
    (e: Error) => e.name === "AbortError",
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
});
