import assert from "node:assert/strict";
import { findDeno } from "../../src/sandbox/_system_node.ts";
import { tempDir } from "../_temp_dir.ts";

// A stand-in for the `deno` npm package: its Node wrapper, and its install API, which answers
// where its platform's binary is.
async function fakeDenoPackage(root: string): Promise<string> {
  const dir = `${root}/node_modules/deno`;
  await Deno.mkdir(`${root}/node_modules/.bin`, { recursive: true });
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name: "deno", bin: "bin.cjs" }),
  );
  await Deno.writeTextFile(`${dir}/bin.cjs`, "#!/usr/bin/env node\n", {
    mode: 0o755,
  });
  await Deno.writeTextFile(
    `${dir}/install_api.cjs`,
    'module.exports = { runInstall: () => require("path").join(__dirname, "deno") };\n',
  );
  await Deno.writeTextFile(`${dir}/deno`, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.symlink("../deno/bin.cjs", `${root}/node_modules/.bin/deno`);
  return `${dir}/deno`;
}

Deno.test("findDeno() takes the deno npm package beside stepbox first", async () => {
  await using temp = await tempDir();
  const root = temp.path;
  const binary = await fakeDenoPackage(root);
  const onPath = `${root}/bin`;
  await Deno.mkdir(onPath);
  await Deno.writeTextFile(`${onPath}/deno`, "#!/bin/sh\n", { mode: 0o755 });
  assert.equal(
    findDeno({
      from: `${root}/node_modules/stepbox/dist/mod.js`,
      path: onPath,
    }),
    binary,
  );
});

Deno.test("findDeno() follows a deno on PATH that is the npm wrapper to its binary", async () => {
  await using temp = await tempDir();
  const root = temp.path;
  const binary = await fakeDenoPackage(root);
  assert.equal(
    findDeno({
      from: `${root}/app/main.js`,
      path: `/nonexistent:${root}/node_modules/.bin`,
    }),
    await Deno.realPath(binary),
  );
});

Deno.test("findDeno() takes the first executable deno on PATH, and finds none where there is none", async () => {
  await using temp = await tempDir();
  const root = temp.path;
  await Deno.mkdir(`${root}/a`);
  await Deno.mkdir(`${root}/b`);
  await Deno.writeTextFile(`${root}/a/deno`, "not executable\n", {
    mode: 0o644,
  });
  await Deno.writeTextFile(`${root}/b/deno`, "#!/bin/sh\n", { mode: 0o755 });
  assert.equal(
    findDeno({ from: `${root}/app/main.js`, path: `${root}/a:${root}/b` }),
    `${root}/b/deno`,
  );
  assert.equal(
    findDeno({ from: `${root}/app/main.js`, path: `${root}/a` }),
    undefined,
  );
  assert.equal(
    findDeno({ from: `${root}/app/main.js`, path: undefined }),
    undefined,
  );
});
