import assert from "node:assert/strict";
import {
  headOf,
  PIECE_CHARS,
  PieceAssembly,
  pieces,
  type Split,
  splitOf,
} from "../../src/sandbox/_pieces.ts";

function rows(count: number, width = 20): { i: number; text: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    i,
    text: `${i}`.padEnd(width, "·"),
  }));
}

/** Sends `split` through a head and pieces, as a lane does, and rebuilds it. */
function roundTrip(split: Split): unknown {
  const assembly = new PieceAssembly(
    JSON.parse(JSON.stringify(headOf(split))),
  );
  for (const piece of pieces(split)) assembly.add(piece.text);
  return assembly.value;
}

Deno.test("splitOf() picks the longest list, wherever it is", () => {
  const long = rows(20_000);
  const value = {
    meta: { names: rows(100), title: "t" },
    nested: [{ deeper: { long } }],
  };
  const split = splitOf(value)!;
  assert.deepEqual(split.path, ["nested", 0, "deeper", "long"]);
  assert.equal(split.list, long);
  assert.equal(splitOf(long)!.path.length, 0);
});

Deno.test("splitOf() leaves whole a small value, one without a long list, and a list under __proto__", () => {
  assert.equal(splitOf({ list: rows(1000, 4) }), undefined);
  assert.equal(splitOf({ text: "x".repeat(1_000_000) }), undefined);
  const hidden = JSON.parse(`{"__proto__": ${JSON.stringify(rows(20_000))}}`);
  assert.equal(splitOf(hidden), undefined);
  // A known size decides instead of the estimate.
  assert.ok(splitOf({ list: rows(1000, 4) }, 1_000_000) !== undefined);
});

Deno.test("a split value is rebuilt exactly, keys in their order, without changing the value", () => {
  const value = {
    z: 1,
    list: [
      [rows(10)],
      { a: null, b: [true, false], c: "é😀\u2028" },
      ...rows(30_000),
    ],
    a: "last",
  };
  // An own "__proto__" key, as JSON.parse makes one: data, not the prototype.
  Object.defineProperty(value, "__proto__", {
    value: { kept: true },
    enumerable: true,
  });
  const before = JSON.stringify(value);
  const split = splitOf(value)!;
  assert.deepEqual(split.path, ["list"]);
  const rebuilt = roundTrip(split);
  assert.equal(JSON.stringify(rebuilt), before);
  assert.deepEqual(rebuilt, JSON.parse(before));
  assert.equal(JSON.stringify(value), before);
});

Deno.test("pieces() starts small, then cuts pieces of about PIECE_CHARS", () => {
  const list = rows(50_000, 40);
  const all = [...pieces({ kind: "split", value: list, path: [], list })];
  assert.equal(JSON.parse(all[0]!.text).length, 32);
  for (const piece of all.slice(1, -1)) {
    assert.ok(Math.abs(piece.text.length - PIECE_CHARS) < PIECE_CHARS / 10);
  }
  assert.deepEqual(
    all.map((piece) => piece.last),
    all.map((_, i) => i === all.length - 1),
  );
  const empty: unknown[] = [];
  assert.deepEqual([
    ...pieces({ kind: "split", value: empty, path: [], list: empty }),
  ], [
    { text: "[]", last: true },
  ]);
});

Deno.test("PieceAssembly refuses a head with no list at its path, and a piece that is not a list", () => {
  assert.throws(
    () => new PieceAssembly({ kind: "pieces", head: '{"a":{}}', path: ["a"] }),
    /no list where the pieces go/,
  );
  assert.throws(
    () =>
      new PieceAssembly({ kind: "pieces", head: "{}", path: ["__proto__"] }),
    /no list where the pieces go/,
  );
  const assembly = new PieceAssembly({ kind: "pieces", head: "[]", path: [] });
  assert.throws(() => assembly.add('{"0":1}'), /a piece is not a list/);
});
