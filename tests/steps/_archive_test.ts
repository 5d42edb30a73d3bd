import assert from "node:assert/strict";
import {
  checkEntries,
  detectArchiveFormat,
  readArchive,
  readTar,
  writeEntries,
} from "../../src/steps/_archive.ts";
import { PATH, tempDir } from "./_helpers.ts";
import { gzip, listTree, tar, zip } from "./_archives.ts";

const LONG = `${
  "deep-directory-name/".repeat(6)
}a-file-name-that-is-long-enough.ts`;
const UNICODE = "données/é-文件.txt";

async function systemArchive(
  root: string,
  args: string[],
): Promise<Uint8Array> {
  await Deno.mkdir(`${root}/src/${LONG.slice(0, LONG.lastIndexOf("/"))}`, {
    recursive: true,
  });
  await Deno.mkdir(`${root}/src/données`, { recursive: true });
  await Deno.writeTextFile(`${root}/src/${LONG}`, "long");
  await Deno.writeTextFile(`${root}/src/${UNICODE}`, "unicode");
  await Deno.writeTextFile(`${root}/src/tool.sh`, "#!/bin/sh\n", {
    mode: 0o755,
  });
  await Deno.chmod(`${root}/src/tool.sh`, 0o755);
  const output = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    cwd: `${root}/src`,
    clearEnv: true,
    env: { PATH, LC_ALL: "C.UTF-8" },
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const name = args.find((arg) => arg.startsWith("../"))!.slice(3);
  return await Deno.readFile(`${root}/${name}`);
}

for (
  const [format, args] of [
    ["GNU tar", ["tar", "--format=gnu", "-czf", "../archive", "."]],
    ["pax tar", ["tar", "--format=pax", "-czf", "../archive", "."]],
    ["plain ustar", ["tar", "--format=ustar", "-cf", "../archive", "."]],
    ["zip", ["zip", "-qr", "../archive.zip", "."]],
    ["zip64 (zip -fz)", ["zip", "-qr", "-fz", "../archive.zip", "."]],
  ] as const
) {
  Deno.test(`readArchive() reads long and non-ASCII names from ${format} made by the system tool`, async () => {
    await using dir = await tempDir();
    const bytes = await systemArchive(dir.path, [...args]);
    const detected = detectArchiveFormat(bytes);
    assert.ok(detected !== undefined);
    const entries = checkEntries(await readArchive(bytes, detected));
    await Deno.mkdir(`${dir.path}/out`);
    await writeEntries(entries, `${dir.path}/out`);
    assert.equal(await Deno.readTextFile(`${dir.path}/out/${LONG}`), "long");
    assert.equal(
      await Deno.readTextFile(`${dir.path}/out/${UNICODE}`),
      "unicode",
    );
    assert.equal(
      (await Deno.stat(`${dir.path}/out/tool.sh`)).mode! & 0o111,
      0o111,
    );
  });
}

Deno.test("readArchive() refuses an archive that unpacks beyond its limit, before unpacking it all", async () => {
  const big = "x".repeat(200 * 1024);
  await assert.rejects(
    readArchive(
      await gzip(tar([{ type: "file", path: "big.txt", content: big }])),
      "tar.gz",
      64 * 1024,
    ),
    /unpacks to more than 64 KiB, the most stepbox unpacks/,
  );
  const two = zip([
    { type: "file", path: "a.txt", content: "a".repeat(30) },
    { type: "file", path: "b.txt", content: "b".repeat(30) },
  ]);
  assert.equal((await readArchive(two, "zip", 60)).length, 2);
  await assert.rejects(
    readArchive(two, "zip", 59),
    /unpacks to more than 59 bytes/,
  );
  // A bomb's entry claims to be small: inflating stops at the size it declared.
  const liar = zip([
    {
      type: "file",
      path: "bomb.txt",
      content: big,
      deflated: { declaredSize: 10 },
    },
  ]);
  await assert.rejects(
    readArchive(liar, "zip"),
    /"bomb\.txt" is corrupt \(larger than its declared size\)/,
  );
  const honest = zip([
    {
      type: "file",
      path: "big.txt",
      content: big,
      deflated: { declaredSize: big.length },
    },
  ]);
  const [entry] = await readArchive(honest, "zip");
  assert.equal(
    new TextDecoder().decode((entry as { data: Uint8Array }).data),
    big,
  );
});

Deno.test("readTar() rejects a corrupt header and unsupported entry types", () => {
  const archive = tar([{ type: "file", path: "a.txt", content: "a" }]);
  const corrupt = archive.slice();
  corrupt[0] = "b".charCodeAt(0);
  assert.throws(() => readTar(corrupt), /bad checksum/);
  const fifo = archive.slice();
  fifo[156] = "6".charCodeAt(0);
  // Fix the checksum after changing the type flag.
  fifo.fill(32, 148, 156);
  const sum = fifo.subarray(0, 512).reduce((a, b) => a + b, 0);
  fifo.set(
    new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "),
    148,
  );
  assert.throws(() => readTar(fifo), /tar type "6"/);
  assert.throws(() => readTar(archive.subarray(0, 512)), /truncated/);
});

Deno.test("checkEntries() keeps the last of duplicate files and refuses type clashes", async () => {
  await using dir = await tempDir();
  const entries = checkEntries(
    await readArchive(
      zip([
        { type: "file", path: "a.txt", content: "first" },
        { type: "file", path: "./a.txt", content: "second" },
        { type: "directory", path: "d" },
      ]),
      "zip",
    ),
  );
  await writeEntries(entries, dir.path);
  assert.deepEqual(await listTree(dir.path), ["a.txt", "d/"]);
  assert.equal(await Deno.readTextFile(`${dir.path}/a.txt`), "second");
  assert.throws(
    () =>
      checkEntries([
        { type: "file", path: "x", data: new Uint8Array() },
        { type: "symlink", path: "x", target: "y" },
      ]),
    /appears twice with different types/,
  );
  assert.throws(
    () =>
      checkEntries([{
        type: "file",
        path: "C:\\Windows\\evil",
        data: new Uint8Array(),
      }]),
    /absolute path/,
  );
  assert.throws(
    () =>
      checkEntries([{
        type: "file",
        path: "a\\..\\..\\evil",
        data: new Uint8Array(),
      }]),
    /escapes the target/,
  );
});
