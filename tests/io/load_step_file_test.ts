import assert from "node:assert/strict";
import { tempDir } from "../_temp_dir.ts";
import { loadStepFile } from "../../src/io/load_step_file.ts";
import { StepFileError } from "../../src/errors.ts";

Deno.test("loadStepFile() resolves the file from cwd and sets baseUrl to its directory", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.mkdir(`${dir}/flows`);
  await Deno.writeTextFile(`${dir}/flows/a.yaml`, "- ./s.ts#f: {}\n");
  const file = await loadStepFile("flows/a.yaml", { cwd: dir });
  assert.equal(file.path, `${dir}/flows/a.yaml`);
  assert.equal(file.baseUrl, `file://${dir}/flows/`);
  assert.equal(file.file, "flows/a.yaml");
  assert.equal(new URL("./s.ts", file.baseUrl).pathname, `${dir}/flows/s.ts`);
  const absolute = await loadStepFile(`${dir}/flows/../flows/a.yaml`, {
    displayName: "a.yaml",
  });
  assert.equal(absolute.path, `${dir}/flows/a.yaml`);
  assert.equal(absolute.file, "a.yaml");
});

Deno.test("loadStepFile() keeps positions working after loading", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/a.yaml`, "# c\n- a.b: {}\n- c.d: {}\n");
  const file = await loadStepFile("a.yaml", { cwd: dir });
  assert.deepEqual(await file.locate({ index: 1 }), {
    file: "a.yaml",
    line: 3,
    column: 3,
  });
});

Deno.test("loadStepFile() rejects a missing file, a directory and a too large file", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await assert.rejects(loadStepFile("nope.yaml", { cwd: dir }), {
    name: "StepFileError",
    message:
      'nope.yaml: Cannot read step file "nope.yaml": it does not exist; check the path, or create it',
  });
  await assert.rejects(loadStepFile(".", { cwd: dir }), /it is a directory/);
  await Deno.writeTextFile(`${dir}/big.yaml`, "- a.b: {}\n".repeat(200));
  await assert.rejects(
    loadStepFile("big.yaml", { cwd: dir, maxBytes: 1024 }),
    /it is 2 KiB, more than the limit of 1 KiB; split it into smaller files/,
  );
});

Deno.test("loadStepFile() refuses a 50 MB file without reading it", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const path = `${dir}/huge.yaml`;
  using file = await Deno.open(path, { write: true, create: true });
  await file.truncate(50 * 1024 * 1024);
  const started = performance.now();
  const error = await loadStepFile(path).catch((e) => e);
  assert.ok(error instanceof StepFileError);
  assert.match(error.message, /it is 50 MiB, more than the limit of 16 MiB/);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("loadStepFile() rejects text that is not UTF-8", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeFile(
    `${dir}/a.yaml`,
    new Uint8Array([0x2d, 0x20, 0xff, 0xfe, 0x0a]),
  );
  await assert.rejects(
    loadStepFile("a.yaml", { cwd: dir }),
    /it is not UTF-8 text/,
  );
});

Deno.test("loadStepFile() passes parse errors through with the display name", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/a.yaml`, "- a.b:\n    x: 1\n  y: 2\n");
  await assert.rejects(loadStepFile("a.yaml", { cwd: dir }), {
    message: "a.yaml:3:3: Step has unexpected additional keys: y",
  });
});

Deno.test({
  name: "loadStepFile() reports a file it may not read",
  // root reads any file whatever its mode, so the case cannot be staged as root.
  ignore: Deno.build.os === "windows" || Deno.uid() === 0,
  async fn() {
    await using tmp = await tempDir();
    const dir = tmp.path;
    await Deno.writeTextFile(`${dir}/a.yaml`, "- a.b: {}\n");
    await Deno.chmod(`${dir}/a.yaml`, 0o000);
    await assert.rejects(
      loadStepFile("a.yaml", { cwd: dir }),
      /permission denied/i,
    );
  },
});
