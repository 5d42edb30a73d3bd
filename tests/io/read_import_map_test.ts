import assert from "node:assert/strict";
import { tempDir } from "../_temp_dir.ts";
import {
  readImportMap,
  readProjectImports,
} from "../../src/io/read_import_map.ts";

Deno.test("readImportMap() resolves relative targets against the map's directory", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.mkdir(`${dir}/config`);
  await Deno.writeTextFile(
    `${dir}/config/map.json`,
    JSON.stringify({
      imports: {
        "tools/": "../tools/",
        greet: "./greet.ts",
        abs: "/opt/x.ts",
        lodash: "npm:lodash@4",
        cdn: "https://esm.sh/x@1",
      },
    }),
  );
  const map = await readImportMap("config/map.json", { cwd: dir });
  assert.deepEqual(map, {
    "tools/": `file://${dir}/tools/`,
    greet: `file://${dir}/config/greet.ts`,
    abs: "file:///opt/x.ts",
    lodash: "npm:lodash@4",
    cdn: "https://esm.sh/x@1",
  });
});

Deno.test("readImportMap() explains a missing or malformed file", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await assert.rejects(readImportMap("none.json", { cwd: dir }), {
    name: "ImportMapError",
    message:
      'Cannot read import map "none.json": it does not exist; check the path',
  });
  await Deno.writeTextFile(`${dir}/bad.json`, "{ imports: ");
  await assert.rejects(
    readImportMap("bad.json", { cwd: dir }),
    /it is not valid JSON/,
  );
  await Deno.writeTextFile(`${dir}/list.json`, '{"imports": []}');
  await assert.rejects(
    readImportMap("list.json", { cwd: dir }),
    /"imports" must be a mapping/,
  );
  await Deno.writeTextFile(`${dir}/num.json`, '{"imports": {"a": 1}}');
  await assert.rejects(
    readImportMap("num.json", { cwd: dir }),
    /the target of "a" must be a string/,
  );
});

Deno.test("readProjectImports() finds the nearest deno.json upwards", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.mkdir(`${dir}/a/b`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/a/deno.json`,
    '{ "imports": { "lib": "./lib/mod.ts" } }',
  );
  const found = await readProjectImports(`${dir}/a/b`);
  assert.deepEqual(found, {
    imports: { lib: `file://${dir}/a/lib/mod.ts` },
    configFile: `${dir}/a/deno.json`,
  });
});

Deno.test("readProjectImports() reads deno.jsonc with comments and trailing commas", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(
    `${dir}/deno.jsonc`,
    '{\n  // the steps\' packages\n  "imports": { "a": "npm:a@1", /* x */ "b": "https://x.test/b//c", },\n}\n',
  );
  const { imports } = await readProjectImports(dir);
  assert.deepEqual(imports, { a: "npm:a@1", b: "https://x.test/b//c" });
});
