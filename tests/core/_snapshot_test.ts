import assert from "node:assert/strict";
import { matchesSnapshot, takeSnapshot } from "../../src/core/_snapshot.ts";

function snapshotOf(value: unknown) {
  const snapshot = takeSnapshot(value);
  assert.ok(snapshot !== undefined, "expected a snapshot");
  return snapshot;
}

Deno.test("matchesSnapshot() holds for equal data, never for data changed since the copy", () => {
  const data = {
    name: "ada",
    list: [1, { deep: [null, true] }],
    nothing: Object.assign(Object.create(null), { k: "v" }),
  };
  const snapshot = snapshotOf(data);
  assert.equal(matchesSnapshot(data, snapshot), true);
  assert.equal(matchesSnapshot(structuredClone(data), snapshot), false); // null prototype lost
  const changes: ((copy: typeof data) => void)[] = [
    (copy) => (copy.list[1] as { deep: unknown[] }).deep.push(1),
    (copy) => ((copy.list[1] as { deep: unknown[] }).deep[0] = undefined),
    (copy) => (copy.list.length = 3),
    (copy) => Object.assign(copy, { more: 1 }),
    (copy) => delete (copy as Partial<typeof copy>).name,
    (copy) => (copy.name = "Ada"),
    (copy) => (copy.nothing.k = "w"),
  ];
  for (const change of changes) {
    const copy = {
      ...data,
      list: [1, { deep: [null, true] }],
      nothing: Object.assign(Object.create(null), { k: "v" }),
    };
    assert.equal(matchesSnapshot(copy, snapshot), true);
    change(copy);
    assert.equal(matchesSnapshot(copy, snapshot), false, String(change));
  }
});

Deno.test("matchesSnapshot() tells apart what JSON text would not", () => {
  const snapshot = snapshotOf({ a: 1, b: Number.NaN, c: -0, d: ["x"] });
  assert.equal(
    matchesSnapshot({ a: 1, b: Number.NaN, c: -0, d: ["x"] }, snapshot),
    true,
  );
  for (
    const other of [
      { a: 1, b: null, c: -0, d: ["x"] },
      { a: 1, b: Number.NaN, c: 0, d: ["x"] },
      { b: Number.NaN, a: 1, c: -0, d: ["x"] },
      { a: 1, b: Number.NaN, c: -0, d: { 0: "x" } },
      { a: "1", b: Number.NaN, c: -0, d: ["x"] },
      { a: 1, b: Number.NaN, c: -0, d: ["x"], e: undefined },
    ]
  ) {
    assert.equal(matchesSnapshot(other, snapshot), false, String(other));
  }
});

Deno.test("matchesSnapshot() ends on data grown into a cycle since the copy", () => {
  const data: Record<string, unknown> = { inner: { value: 1 } };
  const snapshot = snapshotOf(data);
  (data.inner as Record<string, unknown>).value = data;
  assert.equal(matchesSnapshot(data, snapshot), false);
});

Deno.test("takeSnapshot() copies only plain data, within a budget", () => {
  assert.equal(takeSnapshot({ when: new Date(0) }), undefined);
  assert.equal(takeSnapshot([() => 1]), undefined);
  assert.equal(takeSnapshot(new Map()), undefined);
  // A YAML alias of an alias of ...: 2^40 paths through 40 objects.
  let shared: unknown = ["leaf"];
  for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
  assert.equal(takeSnapshot(shared), undefined);
  // The copy is the snapshot's own: changing the data afterwards cannot change it.
  const data = { list: [1] };
  const snapshot = snapshotOf(data);
  data.list.push(2);
  assert.equal(matchesSnapshot({ list: [1] }, snapshot), true);
});
