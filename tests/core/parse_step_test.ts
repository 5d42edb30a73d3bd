import assert from "node:assert/strict";
import { StepValidationError } from "../../src/errors.ts";
import { parseStep } from "../../src/core/parse_step.ts";

/** Asserts a StepValidationError naming the step index and (when given) the reference. */
function assertInvalid(
  step: unknown,
  index: number,
  pattern: RegExp,
  reference?: string,
) {
  assert.throws(
    () => parseStep(step, index),
    (error: Error) => {
      assert.ok(error instanceof StepValidationError, String(error));
      assert.equal(error.stepIndex, index);
      assert.equal(error.reference, reference);
      assert.match(error.message, pattern);
      assert.ok(error.message.includes(`step ${index}`), error.message);
      if (reference !== undefined) {
        assert.ok(error.message.includes(`"${reference}"`), error.message);
      }
      return true;
    },
  );
}

Deno.test("parseStep() skips empty steps", () => {
  assert.equal(parseStep(null, 0), undefined);
  assert.equal(parseStep(undefined, 0), undefined);
  assert.equal(parseStep({}, 0), undefined);
});

Deno.test("parseStep() takes reserved keywords out of the inputs, top level only", () => {
  assert.deepEqual(
    parseStep({
      "a.b": {
        id: "x",
        requires: ["p@1", " q@2 "],
        permissions: { net: ["h"] },
        timeout: 1.5,
        retries: 2,
        nested: { id: 1, timeout: "t" },
      },
    }, 3),
    {
      index: 3,
      reference: "a.b",
      inputs: { nested: { id: 1, timeout: "t" } },
      id: "x",
      requires: ["p@1", "q@2"],
      permissions: { net: ["h"] },
      timeout: 1.5,
      retries: 2,
    },
  );
});

Deno.test("parseStep() rejects a step with two keys with Prefect's wording", () => {
  assertInvalid(
    { "a.b": {}, "c.d": {}, "e": 1 },
    4,
    /^Step has unexpected additional keys: c\.d, e /,
    "a.b",
  );
});

Deno.test("parseStep() rejects a step whose value is not a mapping", () => {
  assertInvalid(
    { "a.b": null },
    1,
    /inputs must be a mapping, found null/,
    "a.b",
  );
  assertInvalid({ "a.b": [1] }, 1, /found a list/, "a.b");
  assertInvalid({ "a.b": "x" }, 1, /found the text "x"/, "a.b");
});

Deno.test("parseStep() rejects a step that is not a mapping", () => {
  assertInvalid(
    "a.b",
    2,
    /expected a mapping with one key .* found the text "a.b"/,
  );
  assertInvalid([{ "a.b": {} }], 2, /found a list/);
  assertInvalid(5, 2, /found number 5/);
});

Deno.test("parseStep() rejects an empty or spaced reference", () => {
  assertInvalid({ "": {} }, 0, /must be a non-empty name/, "");
  assertInvalid({ "a b": {} }, 0, /without spaces/, "a b");
});

Deno.test("parseStep() rejects an id that is not a string", () => {
  assertInvalid(
    { "a.b": { id: 7 } },
    5,
    /"id" must be a string, found number 7/,
    "a.b",
  );
  assertInvalid(
    { "a.b": { id: null } },
    5,
    /"id" must be a string, found null/,
    "a.b",
  );
});

Deno.test("parseStep() rejects malformed reserved keywords", () => {
  assertInvalid(
    { "a.b": { requires: 3 } },
    0,
    /"requires" must be a package/,
    "a.b",
  );
  assertInvalid({ "a.b": { requires: ["x", ""] } }, 0, /"requires"/, "a.b");
  assertInvalid(
    { "a.b": { timeout: "5" } },
    0,
    /"timeout" must be a positive number/,
    "a.b",
  );
  assertInvalid({ "a.b": { timeout: 0 } }, 0, /"timeout"/, "a.b");
  assertInvalid(
    { "a.b": { retries: 1.5 } },
    0,
    /"retries" must be a whole number/,
    "a.b",
  );
  assertInvalid({ "a.b": { retries: -1 } }, 0, /"retries"/, "a.b");
  assertInvalid(
    { "a.b": { permissions: { network: true } } },
    0,
    /unknown permission kind "network"/,
    "a.b",
  );
  assertInvalid(
    { "a.b": { permissions: { net: "yes" } } },
    0,
    /"net" must be true, false or a list/,
    "a.b",
  );
  assertInvalid(
    { "a.b": { permissions: ["net"] } },
    0,
    /expected a mapping, found a list/,
    "a.b",
  );
});

Deno.test("parseStep() rejects input values of unsupported types, naming the key path", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  class Thing {}
  const cases: [unknown, RegExp][] = [
    [() => 1, /input "f" is a function/],
    [new Date(0), /input "f" is a Date/],
    [Symbol("s"), /input "f" is a symbol/],
    [10n, /input "f" is a bigint/],
    [new Thing(), /input "f" is a Thing/],
    [new Map(), /input "f" is a Map/],
    [undefined, /input "f" is undefined/],
    [
      { deep: [1, { when: new Date(0) }] },
      /input "f.deep\[1\].when" is a Date/,
    ],
    [cyclic, /input "f.self" is a cycle/],
  ];
  for (const [value, pattern] of cases) {
    assertInvalid({ "a.b": { f: value } }, 6, pattern, "a.b");
  }
});

Deno.test("parseStep() accepts shared (non-cyclic) references and __proto__ keys as data", () => {
  const shared = { x: 1 };
  const parsed = parseStep({ "a.b": { one: shared, two: [shared] } }, 0);
  assert.deepEqual(parsed?.inputs, { one: { x: 1 }, two: [{ x: 1 }] });
  const proto = parseStep(JSON.parse('{"a.b": {"__proto__": {"x": 1}}}'), 0);
  assert.equal(Object.getPrototypeOf(proto?.inputs), Object.prototype);
  assert.deepEqual(
    Object.getOwnPropertyDescriptor(proto?.inputs, "__proto__")?.value,
    { x: 1 },
  );
});

Deno.test("parseStep() does not mutate the step", () => {
  const step = { "a.b": { id: "x", requires: "p@1", v: { w: [1] } } };
  const before = structuredClone(step);
  parseStep(step, 0);
  assert.deepEqual(step, before);
});
