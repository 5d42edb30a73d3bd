import assert from "node:assert/strict";
import { matchesSnapshot, takeSnapshot } from "../../src/core/_snapshot.ts";

function snapshotOf(value: unknown, sameObjects: boolean) {
  const snapshot = takeSnapshot(value, { sameObjects });
  assert.ok(snapshot !== undefined, "expected a snapshot");
  return snapshot;
}

type Data = {
  a: number;
  b: unknown;
  list: unknown[];
  nested: { deep: unknown[] };
  bare: Record<string, unknown>;
};

function makeData(): Data {
  return {
    a: 1,
    b: Number.NaN,
    list: [-0, "x"],
    nested: { deep: [null, true] },
    bare: Object.assign(Object.create(null), { k: "v" }),
  };
}

Deno.test("matchesSnapshot() holds for the same data, and fails after any change in place", () => {
  const changes: ((data: Data) => void)[] = [
    (data) => data.nested.deep.push(1),
    (data) => (data.nested.deep[0] = undefined),
    (data) => (data.list.length = 3),
    (data) => (data.list[0] = 0), // -0 and 0: JSON text would not tell them apart
    (data) => (data.b = null), // nor NaN and null
    (data) => (data.a = "1" as unknown as number),
    (data) => Object.assign(data, { more: 1 }),
    (data) => Object.assign(data, { more: undefined }),
    (data) => delete (data as Partial<Data>).a,
    (data) => {
      // The same keys and values in another order.
      const a = data.a;
      delete (data as Partial<Data>).a;
      data.a = a;
    },
    (data) => (data.bare.k = "w"),
    (data) => Object.setPrototypeOf(data.bare, Object.prototype),
  ];
  for (const sameObjects of [true, false]) {
    for (const change of changes) {
      const data = makeData();
      const snapshot = snapshotOf(data, sameObjects);
      assert.equal(matchesSnapshot(data, snapshot), true);
      change(data);
      assert.equal(matchesSnapshot(data, snapshot), false, String(change));
    }
  }
});

Deno.test("matchesSnapshot() asks for the same objects only of a copy taken with sameObjects", () => {
  const data = makeData();
  const same = snapshotOf(data, true);
  const equal = snapshotOf(data, false);
  assert.equal(matchesSnapshot(makeData(), same), false);
  assert.equal(matchesSnapshot(makeData(), equal), true);
  // An equal list put in the place of the one copied: whoever kept the old one would hand over
  // something else.
  const old = data.nested.deep;
  data.nested.deep = [...old];
  assert.equal(matchesSnapshot(data, same), false);
  assert.equal(matchesSnapshot(data, equal), true);
  data.nested.deep = old;
  assert.equal(matchesSnapshot(data, same), true);
  // Without sameObjects, a list is still no mapping, nor a mapping a list.
  assert.equal(
    matchesSnapshot({ ...makeData(), list: { 0: -0, 1: "x" } }, equal),
    false,
  );
  assert.equal(
    matchesSnapshot({ ...makeData(), nested: [[null, true]] }, equal),
    false,
  );
});

Deno.test("matchesSnapshot() ends on data grown into a cycle since the copy", () => {
  const data: Record<string, unknown> = { inner: { inner: {} } };
  const snapshot = snapshotOf(data, false);
  ((data.inner as Record<string, unknown>).inner as Record<string, unknown>)
    .inner = data;
  assert.equal(matchesSnapshot(data, snapshot), false);
});

Deno.test("takeSnapshot() copies only plain data, within a budget", () => {
  const options = { sameObjects: false };
  assert.equal(takeSnapshot({ when: new Date(0) }, options), undefined);
  assert.equal(takeSnapshot([() => 1], options), undefined);
  assert.equal(takeSnapshot(new Map(), options), undefined);
  // A YAML alias of an alias of ...: 2^40 paths through 40 objects.
  let shared: unknown = ["leaf"];
  for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
  assert.equal(takeSnapshot(shared, options), undefined);
});
