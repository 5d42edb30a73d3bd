import assert from "node:assert/strict";
import {
  decodePayload,
  deserializeError,
  encodePayload,
  ERROR_TABLE,
  serializeError,
} from "../../src/sandbox/protocol.ts";
import {
  OutputNotCloneableError,
  StepFileError,
  StepTimeoutError,
} from "../../src/errors.ts";

function roundTrip(error: unknown): unknown {
  // Structured clone is what the host <-> worker boundary does; the parent <-> host frames
  // carry the same values (tests/sandbox/stdio_endpoint_test.ts).
  return deserializeError(structuredClone(serializeError(error)));
}

Deno.test("serializeError() and deserializeError() keep class, message, stack, props and cause", () => {
  class GitError extends Error {
    exitCode = 128;
    constructor(message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = "GitError";
    }
  }
  const original = new GitError("clone failed", {
    cause: Object.assign(new TypeError("bad url"), { code: "E_URL" }),
  });
  const copy = roundTrip(original) as Error & {
    exitCode: number;
    cause: Error & { code: string };
  };
  assert.ok(copy instanceof Error);
  assert.equal(copy.name, "GitError");
  assert.equal(copy.message, "clone failed");
  assert.equal(copy.stack, original.stack);
  assert.equal(copy.exitCode, 128);
  assert.ok(copy.cause instanceof TypeError);
  assert.equal(copy.cause.code, "E_URL");
});

Deno.test("deserializeError() rebuilds stepbox and Deno error classes", () => {
  const timeout = roundTrip(
    new StepTimeoutError("slow", { timeoutMs: 5 }),
  ) as StepTimeoutError;
  assert.ok(timeout instanceof StepTimeoutError);
  assert.equal(timeout.timeoutMs, 5);
  assert.equal(timeout.code, "STEP_TIMEOUT");
  const file = roundTrip(
    new StepFileError("bad", { file: "a.yaml", line: 2, column: 3 }),
  ) as StepFileError;
  assert.ok(file instanceof StepFileError);
  assert.ok(file instanceof SyntaxError);
  assert.equal(file.line, 2);
  const clone = roundTrip(
    new OutputNotCloneableError("no", { keyPath: "a.b" }),
  );
  assert.ok(clone instanceof OutputNotCloneableError);
  const notFound = roundTrip(new Deno.errors.NotFound("gone"));
  assert.ok(notFound instanceof Deno.errors.NotFound);
  assert.ok(Object.isFrozen(ERROR_TABLE));
});

Deno.test("deserializeError() keeps an unknown class's name on an Error", () => {
  const copy = deserializeError({
    name: "WeirdError",
    message: "m",
    props: {},
  }) as Error;
  assert.equal(copy.constructor, Error);
  assert.equal(copy.name, "WeirdError");
  assert.equal(String(copy), "WeirdError: m");
});

Deno.test("serializeError() keeps thrown non-Errors and aggregate errors", () => {
  assert.equal(roundTrip("text"), "text");
  assert.deepEqual(roundTrip({ a: 1 }), { a: 1 });
  assert.equal(roundTrip(undefined), undefined);
  const aggregate = roundTrip(
    new AggregateError([new RangeError("one"), "two"], "both"),
  ) as AggregateError;
  assert.ok(aggregate instanceof AggregateError);
  assert.ok(aggregate.errors[0] instanceof RangeError);
  assert.equal(aggregate.errors[1], "two");
});

Deno.test("serializeError() survives circular causes and uncloneable props", () => {
  const error = new Error("loop") as Error & { handler?: () => void };
  error.cause = error;
  error.handler = () => {};
  const copy = roundTrip(error) as Error & { handler: string; cause: Error };
  assert.equal(copy.cause.message, "[circular cause]");
  assert.equal(typeof copy.handler, "string");
});

Deno.test("encodePayload() uses JSON text only for large JSON-safe values", () => {
  const large = {
    rows: Array.from({ length: 2000 }, (_, i) => ({ i, s: "row" })),
  };
  assert.equal(encodePayload(large).kind, "json");
  assert.deepEqual(decodePayload(encodePayload(large)), large);
  assert.equal(encodePayload({ small: true }).kind, "clone");
  assert.equal(encodePayload({ ...large, missing: undefined }).kind, "clone");
  // Within JSON, a repeated reference is data twice over.
  const shared = { s: "x".repeat(20_000) };
  const twice = encodePayload({ a: shared, b: shared });
  assert.equal(twice.kind, "json");
  assert.deepEqual(decodePayload(twice), { a: shared, b: shared });
  assert.equal(encodePayload({ ...large, zero: -0 }).kind, "clone");
  const cyclic: Record<string, unknown> = { s: "x".repeat(20_000) };
  cyclic.self = cyclic;
  assert.equal(encodePayload(cyclic).kind, "clone");
  // Small, but twice as large as JSON at each level: structured clone keeps it small.
  let doubling: unknown = "x".repeat(100);
  for (let level = 0; level < 40; level++) {
    doubling = { a: doubling, b: doubling };
  }
  assert.equal(encodePayload(doubling).kind, "clone");
  assert.equal(
    encodePayload(Array.from({ length: 10 }), { threshold: 1 }).kind,
    "clone",
  );
});
