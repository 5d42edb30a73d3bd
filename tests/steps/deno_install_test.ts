import assert from "node:assert/strict";
import { deno_install } from "../../src/steps/deno_install.ts";
import { createContext, tempDir } from "./_helpers.ts";

Deno.test("deno_install() runs deno install in the directory and fails with its exit code", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/deno.json`, "{}");
  await Deno.mkdir(`${dir.path}/broken`);
  await Deno.writeTextFile(`${dir.path}/broken/deno.json`, "{ not json");
  const context = createContext(dir.path, { DENO_NO_UPDATE_CHECK: "1" });
  const result = await deno_install({ stream_output: false }, context);
  assert.deepEqual(Object.keys(result).sort(), ["stderr", "stdout"]);
  await assert.rejects(
    deno_install({ directory: "broken" }, context),
    (error: Error & { exitCode: number; stderr: string }) => {
      assert.match(
        error.message,
        /^deno_install failed with error code 1: .*broken\/deno\.json/s,
      );
      assert.equal(error.exitCode, 1);
      return true;
    },
  );
  assert.equal(context.chunks.some((chunk) => chunk.stream === "stderr"), true);
  await assert.rejects(
    deno_install({ directory: "missing" }, context),
    /directory "missing" .* does not exist/,
  );
  await assert.rejects(
    deno_install({ directory: 1 } as never, context),
    /input "directory" must be a string, found a number/,
  );
});
