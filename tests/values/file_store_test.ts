import assert from "node:assert/strict";
import { FileStore } from "../../src/values/file_store.ts";
import { ValueStoreError } from "../../src/errors.ts";

async function withStore(fn: (store: FileStore, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(new FileStore(`${dir}/.stepbox`), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileStore variables: set, get, list, remove", async () => {
  await withStore(async (store) => {
    assert.equal(await store.variable("region"), undefined);
    assert.deepEqual(await store.listVariables(), []);
    await store.setVariable("region", "eu-west-3");
    await store.setVariable("replicas", 3);
    await store.setVariable("nothing", null);
    assert.equal(await store.variable("region"), "eu-west-3");
    assert.equal(await store.variable("replicas"), 3);
    assert.equal(await store.variable("nothing"), null);
    assert.deepEqual(
      (await store.listVariables()).map((v) => [v.name, v.value]),
      [["nothing", null], ["region", "eu-west-3"], ["replicas", 3]],
    );
    await store.setVariable("region", "us-east-1");
    assert.equal(await store.variable("region"), "us-east-1");
    assert.equal(await store.removeVariable("region"), true);
    assert.equal(await store.removeVariable("region"), false);
    assert.equal(await store.variable("region"), undefined);
  });
});

Deno.test("FileStore blocks: by name and by id; the id survives an update", async () => {
  await withStore(async (store) => {
    const first = await store.setBlock("secret", "token", { value: "a" });
    const second = await store.setBlock("secret", "token", { value: "b" });
    assert.equal(first.id, second.id);
    await store.setBlock("aws-credentials", "prod", { key: "k" });
    assert.deepEqual(await store.blockByName("secret", "token"), {
      id: first.id,
      blockTypeSlug: "secret",
      name: "token",
      data: { value: "b" },
    });
    assert.equal((await store.blockById(first.id))?.name, "token");
    assert.equal(await store.blockById("missing"), undefined);
    assert.equal(await store.blockByName("secret", "other"), undefined);
    assert.equal(await store.blockByName("Bad Slug", "x"), undefined);
    assert.deepEqual(
      (await store.listBlocks()).map((b) => `${b.blockTypeSlug}/${b.name}`),
      ["aws-credentials/prod", "secret/token"],
    );
    assert.equal(await store.removeBlock("secret", "token"), true);
    assert.equal(await store.getBlock("secret", "token"), undefined);
  });
});

Deno.test("FileStore writes block files private and ignores the store in git", async () => {
  await withStore(async (store) => {
    await store.setBlock("secret", "token", { value: "s3cr3t" });
    const info = await Deno.stat(`${store.directory}/blocks/secret/token.json`);
    assert.equal((info.mode ?? 0) & 0o077, 0);
    assert.match(
      await Deno.readTextFile(`${store.directory}/.gitignore`),
      /^\*$/m,
    );
  });
});

Deno.test("FileStore rejects names that are not safe file names", async () => {
  await withStore(async (store) => {
    for (const name of ["../escape", "a/b", "", "-x", "with space", "a.b"]) {
      await assert.rejects(store.setVariable(name, 1), ValueStoreError);
    }
    await assert.rejects(
      store.setBlock("Secret", "x", {}),
      /Cannot use block type slug "Secret"/,
    );
    await assert.rejects(
      store.setBlock("secret", "../x", {}),
      /Cannot use block name/,
    );
  });
});

Deno.test("FileStore leaves no temporary files and never a half-written entry", async () => {
  await withStore(async (store) => {
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) => store.setVariable(`v${i % 5}`, "x".repeat(10_000 + i)),
      ),
    );
    const names = [];
    for await (const entry of Deno.readDir(`${store.directory}/variables`)) {
      names.push(entry.name);
    }
    assert.deepEqual(names.sort(), [
      "v0.json",
      "v1.json",
      "v2.json",
      "v3.json",
      "v4.json",
    ]);
    for (const variable of await store.listVariables()) {
      assert.equal(typeof variable.value, "string");
    }
  });
});

Deno.test("FileStore reports a corrupt entry without showing its content", async () => {
  await withStore(async (store) => {
    await store.setBlock("secret", "token", { value: "s3cr3t" });
    await Deno.writeTextFile(
      `${store.directory}/blocks/secret/token.json`,
      '{"data": "s3cr3t',
    );
    const error = await store.blockByName("secret", "token").catch((e) => e);
    assert.ok(error instanceof ValueStoreError);
    assert.match(
      error.message,
      /is not a valid entry; remove it and set the value again/,
    );
    assert.doesNotMatch(
      `${error.message} ${(error.cause as Error).message}`,
      /s3cr3t/,
    );
  });
});

Deno.test("FileStore.fromEnvironment() honours STEPBOX_STORE, relative to cwd", () => {
  assert.equal(
    FileStore.fromEnvironment({ cwd: "/w", env: { STEPBOX_STORE: "store" } })
      .directory,
    "/w/store",
  );
  assert.equal(
    FileStore.fromEnvironment({ cwd: "/w/", env: {} }).directory,
    "/w/.stepbox",
  );
});
