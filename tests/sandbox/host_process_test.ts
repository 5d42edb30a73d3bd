import assert from "node:assert/strict";
import { createSandboxExecutor } from "../../src/sandbox/host_client.ts";
import { importMapArgument } from "../../src/sandbox/_host_process.ts";
import { denoSystem } from "../../src/sandbox/_system_deno.ts";
import { tempDir } from "../_temp_dir.ts";
import { callOptions, fixtureTarget } from "./executor_suite.ts";

// More than fits on a command line as a data: URL.
const LARGE_MAP = Object.fromEntries(
  Array.from(
    { length: 2000 },
    (_, i) => [`pkg-${i}`, `https://cdn.example/pkg-${i}@1.0.0/mod.js`],
  ),
);

Deno.test("importMapArgument() writes an import map too large for the command line to a file", async () => {
  await using temp = await tempDir();
  const text = JSON.stringify({ imports: LARGE_MAP });
  const file = importMapArgument(text, denoSystem, () => temp.path);
  assert.equal(file, `${temp.path}/import_map.json`);
  assert.equal(await Deno.readTextFile(file), text);
});

Deno.test("createSandboxExecutor() runs a step under an import map too large for the command line", async () => {
  await using executor = createSandboxExecutor({ isolation: "step" });
  const output = await executor.call(
    fixtureTarget("returns_object.ts", "returnsObject"),
    { name: "large map" },
    callOptions({ importMap: LARGE_MAP }),
  );
  assert.equal((output as { greeting: string }).greeting, "hello large map");
});
