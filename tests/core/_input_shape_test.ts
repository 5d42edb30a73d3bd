import assert from "node:assert/strict";
import { inspectInputShape } from "../../src/core/_input_shape.ts";

Deno.test("inspectInputShape() finds plain JSON data", () => {
  assert.deepEqual(
    inspectInputShape({ a: [1, "x", true, null, { b: -2.5 }], c: "}} {" }),
    { plain: true, json: true },
  );
  assert.deepEqual(inspectInputShape(Object.create(null)), {
    plain: true,
    json: true,
  });
});

Deno.test("inspectInputShape() says what resolving could change", () => {
  assert.equal(inspectInputShape({ a: ["{{ step.x }}"] }).plain, false);
  assert.equal(inspectInputShape({ a: "x {{ $HOME }}" }).plain, false);
  assert.equal(
    inspectInputShape({ a: { $ref: { block_document_id: "1" } } }).plain,
    false,
  );
  assert.equal(inspectInputShape({ a: new Date(0) }).plain, false);
  assert.equal(inspectInputShape({ a: new Map() }).plain, false);
  assert.equal(inspectInputShape({ a: () => 1 }).plain, false);
  assert.equal(inspectInputShape({ a: 1n }).plain, false);
  const shared = { k: 1 };
  assert.equal(inspectInputShape({ a: shared, b: [shared] }).plain, false);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(inspectInputShape({ cyclic }).plain, false);
});

Deno.test("inspectInputShape() tells JSON data from other plain data", () => {
  assert.deepEqual(inspectInputShape({ a: Number.POSITIVE_INFINITY }), {
    plain: true,
    json: false,
  });
  assert.deepEqual(inspectInputShape({ a: [undefined] }), {
    plain: true,
    json: false,
  });
  // deno-lint-ignore no-sparse-arrays -- a hole is what is being checked
  assert.equal(inspectInputShape({ a: [1, , 2] }).json, false);
});
