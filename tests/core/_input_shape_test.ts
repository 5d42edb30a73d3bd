import assert from "node:assert/strict";
import { recallInputShape } from "../../src/core/_input_shape.ts";
import { parseStep } from "../../src/core/parse_step.ts";

// The shape alone: the usage it also carries has tests of its own (resolve_values).
function shapeOf(inputs: Record<string, unknown>) {
  const { plain, json } = recallInputShape(
    parseStep({ "a.b": inputs }, 0)!.inputs,
  );
  return { plain, json };
}

Deno.test("parseStep() finds plain JSON inputs", () => {
  assert.deepEqual(
    shapeOf({ a: [1, "x", true, null, { b: -2.5 }], c: "}} {" }),
    { plain: true, json: true },
  );
  assert.deepEqual(shapeOf(Object.create(null)), { plain: true, json: true });
  const shared = { k: 1 };
  assert.deepEqual(shapeOf({ a: shared, b: [shared] }), {
    plain: true,
    json: true,
  });
});

Deno.test("parseStep() notes inputs that resolving could change", () => {
  assert.equal(shapeOf({ a: ["{{ step.x }}"] }).plain, false);
  assert.equal(shapeOf({ a: "x {{ $HOME }}" }).plain, false);
  assert.equal(
    shapeOf({ a: { $ref: { block_document_id: "1" } } }).plain,
    false,
  );
  // Inside a `$ref` mapping nothing is collected, yet the mapping is resolved.
  assert.equal(
    shapeOf({ a: { $ref: { block_document_id: "{{ x }}" } } }).plain,
    false,
  );
});

Deno.test("parseStep() tells JSON data from other plain data", () => {
  assert.deepEqual(shapeOf({ a: Number.POSITIVE_INFINITY }), {
    plain: true,
    json: false,
  });
  assert.equal(shapeOf({ a: [Number.NaN] }).json, false);
  assert.equal(shapeOf({ a: { zero: -0 } }).json, false);
  assert.equal(shapeOf({ a: 0 }).json, true);
});

Deno.test("parseStep() walks a self-sharing graph in linear time and sends it as a graph", () => {
  let doubling: unknown = "{{ leaf }}";
  for (let level = 0; level < 60; level++) {
    doubling = { a: doubling, b: [doubling] };
  }
  assert.deepEqual(shapeOf({ doubling }), { plain: false, json: false });
});

Deno.test("recallInputShape() assumes nothing about inputs it never saw", () => {
  assert.deepEqual(recallInputShape({ a: 1 }), { plain: false, json: false });
});

Deno.test("the shape stays with the parsed inputs: no copy carries it, and nothing shows it", () => {
  const inputs = parseStep({ "a.b": { name: "ada", list: [1] } }, 0)!.inputs;
  assert.equal(recallInputShape(inputs).plain, true);
  assert.deepEqual(Object.keys(inputs), ["name", "list"]);
  assert.equal(JSON.stringify(inputs), '{"name":"ada","list":[1]}');
  assert.deepStrictEqual(inputs, { name: "ada", list: [1] });
  for (
    const copy of [
      { ...inputs },
      Object.assign({}, inputs),
      structuredClone(inputs),
      JSON.parse(JSON.stringify(inputs)),
    ]
  ) {
    // A copy may be changed after validation: it is walked again.
    assert.deepEqual(recallInputShape(copy), { plain: false, json: false });
  }
});
