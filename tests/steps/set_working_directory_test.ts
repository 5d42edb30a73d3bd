import assert from "node:assert/strict";
import { set_working_directory } from "../../src/steps/set_working_directory.ts";
import { run_shell_script } from "../../src/steps/run_shell_script.ts";
import { createContext, tempDir } from "./_helpers.ts";

Deno.test("set_working_directory() returns the directory resolved against the run's working directory", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/a/b`, { recursive: true });
  const context = createContext(dir.path);
  assert.deepEqual(await set_working_directory({ directory: "a/b" }, context), {
    directory: `${dir.path}/a/b`,
  });
  assert.deepEqual(
    await set_working_directory({ directory: "a/b/.." }, context),
    { directory: `${dir.path}/a` },
  );
  assert.deepEqual(
    await set_working_directory({ directory: dir.path }, context),
    { directory: dir.path },
  );
});

Deno.test("set_working_directory() never changes the process's directory", async () => {
  await using dir = await tempDir();
  const before = Deno.cwd();
  await set_working_directory({ directory: dir.path }, createContext("/"));
  assert.equal(Deno.cwd(), before);
});

Deno.test("set_working_directory() output used as the next run directory moves later steps", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/project`);
  const context = createContext(dir.path);
  const { directory } = await set_working_directory(
    { directory: "project" },
    context,
  );
  // What the core does with the output: the run's working directory becomes it.
  const next = createContext(directory);
  assert.equal(
    (await run_shell_script({ script: "pwd" }, next)).stdout,
    `${dir.path}/project`,
  );
});

Deno.test("set_working_directory() rejects a missing directory, a file and bad input", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/file.txt`, "x");
  const context = createContext(dir.path);
  await assert.rejects(
    set_working_directory({ directory: "nope" }, context),
    {
      message:
        `Cannot run set_working_directory: directory "nope" (resolved to "${dir.path}/nope") does not exist; create it or fix the "directory" input`,
    },
  );
  await assert.rejects(
    set_working_directory({ directory: "file.txt" }, context),
    /is not a directory/,
  );
  await assert.rejects(set_working_directory({} as never, context), {
    name: "TypeError",
    message:
      'Cannot run set_working_directory: input "directory" is required, found nothing; add "directory: <value>" to the step',
  });
  await assert.rejects(
    set_working_directory({ directory: ["a"] } as never, context),
    /input "directory" must be a string, found a list/,
  );
});
