import assert from "node:assert/strict";
import { findUncloneable } from "../../src/core/cloneable.ts";

Deno.test("findUncloneable() names the key path of the first function or symbol", () => {
  assert.equal(
    findUncloneable({ result: { handler: () => 1 } }),
    "result.handler",
  );
  assert.equal(findUncloneable({ items: [1, 2, Symbol("s")] }), "items[2]");
  assert.equal(
    findUncloneable({ "odd key": [{ f() {} }] }),
    '["odd key"][0].f',
  );
  assert.equal(findUncloneable(() => 1), "");
});

Deno.test("findUncloneable() finds weak collections and promises", () => {
  assert.equal(findUncloneable({ w: new WeakMap() }), "w");
  assert.equal(findUncloneable({ p: Promise.resolve(1) }), "p");
});

Deno.test("findUncloneable() accepts everything structuredClone copies, cycles included", () => {
  const cyclic: Record<string, unknown> = { n: 1 };
  cyclic.self = cyclic;
  for (
    const value of [
      null,
      undefined,
      1,
      "s",
      10n,
      new Date(0),
      /re/,
      new Uint8Array(2),
      new Map([["k", { v: 1 }]]),
      new Set([1]),
      new Error("e"),
      cyclic,
      { nested: [{ deep: [null] }] },
    ]
  ) {
    assert.equal(findUncloneable(value), undefined, String(value));
    structuredClone(value);
  }
});

Deno.test("findUncloneable() looks inside Maps and Sets", () => {
  assert.notEqual(findUncloneable(new Map([["k", () => 1]])), undefined);
  assert.notEqual(findUncloneable(new Set([Symbol("s")])), undefined);
});
