import assert from "node:assert/strict";
import { createMemoryValueSource } from "../../src/values/memory.ts";
import type { BlockDocument } from "../../src/types.ts";

Deno.test("createMemoryValueSource() answers missing names with undefined and null as a value", async () => {
  const source = createMemoryValueSource({ variables: { none: null } });
  assert.equal(await source.variable("none"), null);
  assert.equal(await source.variable("other"), undefined);
  assert.equal(await source.blockByName("secret", "x"), undefined);
  assert.equal(await source.blockById("x"), undefined);
});

Deno.test("createMemoryValueSource() never mutates its input and hands out copies", async () => {
  const variables = { cfg: { a: [1] } };
  const blocks: BlockDocument[] = [
    { id: "1", blockTypeSlug: "json", name: "j", data: { value: { k: "v" } } },
  ];
  const before = structuredClone({ variables, blocks });
  const source = createMemoryValueSource({ variables, blocks });

  const cfg = await source.variable("cfg") as { a: number[] };
  cfg.a.push(2);
  const block = await source.blockByName("json", "j") as BlockDocument;
  (block.data as { value: { k: string } }).value.k = "changed";

  assert.deepEqual(await source.variable("cfg"), { a: [1] });
  assert.deepEqual((await source.blockById("1"))?.data, { value: { k: "v" } });
  assert.deepEqual({ variables, blocks }, before);

  // Later changes to the caller's objects do not leak into the source either.
  variables.cfg.a.push(9);
  assert.deepEqual(await source.variable("cfg"), { a: [1] });
});

Deno.test("createMemoryValueSource() rejects a block without a name", () => {
  assert.throws(
    () =>
      createMemoryValueSource({
        blocks: [{ id: "1", blockTypeSlug: "s" } as unknown as BlockDocument],
      }),
    /block 0 has no string "name"/,
  );
});

Deno.test("createMemoryValueSource() tells blocks of different types with one name apart", async () => {
  const source = createMemoryValueSource({
    blocks: [
      { id: "1", blockTypeSlug: "a", name: "n", data: 1 },
      { id: "2", blockTypeSlug: "b", name: "n", data: 2 },
    ],
  });
  assert.equal((await source.blockByName("a", "n"))?.data, 1);
  assert.equal((await source.blockByName("b", "n"))?.data, 2);
});
