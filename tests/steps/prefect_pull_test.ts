import assert from "node:assert/strict";
import { runSteps } from "../../src/core/run_steps.ts";
import { createMemoryValueSource } from "../../src/values/memory.ts";
import { gzip, serve, tar } from "./_archives.ts";
import { createRepository, PATH, tempDir } from "./_helpers.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

const PREFECT_YAML = `name: demo
prefect-version: 2.14.0
pull:
  - prefect.deployments.steps.git_clone:
      id: clone
      repository: "{{ repository }}"
      branch: "{{ branch }}"
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ clone.directory }}"
  - prefect.deployments.steps.run_shell_script:
      id: current-branch
      script: git rev-parse --abbrev-ref HEAD
      stream_output: false
`;

/** Runs the real CLI in `cwd`, with the test's environment minus what would redirect it. */
async function cli(cwd: string, ...args: string[]) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("prefect.yaml pull section git_clone -> set_working_directory -> run_shell_script runs unchanged through the CLI", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  await Deno.mkdir(`${dir.path}/project`);
  await Deno.writeTextFile(`${dir.path}/project/prefect.yaml`, PREFECT_YAML);
  const result = await cli(
    `${dir.path}/project`,
    "run",
    "prefect.yaml",
    "--set",
    `repository=${repo.url}`,
    "--set",
    "branch=release",
  );
  assert.equal(result.code, 0, result.stderr);
  const outputs = JSON.parse(result.stdout);
  assert.deepEqual(outputs.clone, { directory: "project-release" });
  assert.equal(outputs.directory, `${dir.path}/project/project-release`);
  assert.deepEqual(outputs["current-branch"], {
    stdout: "release",
    stderr: "",
  });
  assert.match(result.stderr, /Running git_clone step/);
});

Deno.test("prefect.yaml run_shell_script failure stops the CLI run with the exit code and stderr", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    `${dir.path}/prefect.yaml`,
    `pull:
  - prefect.deployments.steps.run_shell_script:
      script: |
        echo before
        sh -c "echo boom >&2; exit 3"
  - prefect.deployments.steps.run_shell_script:
      script: touch should-not-exist
`,
  );
  const result = await cli(dir.path, "run", "prefect.yaml");
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /Encountered error while running prefect\.deployments\.steps\.run_shell_script/,
  );
  assert.match(
    result.stderr,
    /`run_shell_script` failed with error code 3: boom/,
  );
  await assert.rejects(
    Deno.lstat(`${dir.path}/should-not-exist`),
    Deno.errors.NotFound,
  );
});

Deno.test("runSteps() runs two pulls with different working directories concurrently without interference", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  for (const root of [a.path, b.path]) await Deno.mkdir(`${root}/app`);
  const steps = [
    { "prefect.deployments.steps.set_working_directory": { directory: "app" } },
    {
      "prefect.deployments.steps.run_shell_script": {
        id: "where",
        script: "sh -c 'sleep 0.3; pwd'\ntouch marker",
        stream_output: false,
      },
    },
  ];
  const options = (workingDirectory: string) => ({
    workingDirectory,
    env: { PATH },
    policy: { allow: { run: true, read: true } },
  });
  const before = Deno.cwd();
  const [first, second] = await Promise.all([
    runSteps(steps, options(a.path)),
    runSteps(steps, options(b.path)),
  ]);
  assert.deepEqual(first.where, { stdout: `${a.path}/app`, stderr: "" });
  assert.deepEqual(second.where, { stdout: `${b.path}/app`, stderr: "" });
  for (const root of [a.path, b.path]) {
    assert.equal((await Deno.stat(`${root}/app/marker`)).isFile, true);
  }
  assert.equal(Deno.cwd(), before);
});

Deno.test("runSteps() pulls an http archive and a block's directory in the sandbox with only read, write and net", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/storage`);
  await Deno.writeTextFile(`${dir.path}/storage/flow.ts`, "export {};");
  await Deno.mkdir(`${dir.path}/run`);
  await using server = serve({
    "/code.tar.gz": await gzip(
      tar([{ type: "file", path: "main.ts", content: "m" }]),
    ),
  });
  const outputs = await runSteps([
    {
      "prefect.deployments.steps.pull_from_remote_storage": {
        id: "remote",
        url: `${server.origin}/code.tar.gz`,
      },
    },
    {
      "prefect.deployments.steps.pull_with_block": {
        id: "block",
        block_document_name: "code",
        block_type_slug: "local-file-system",
        data: "{{ prefect.blocks.local-file-system.code }}",
      },
    },
  ], {
    workingDirectory: `${dir.path}/run`,
    policy: { allow: { read: true, write: true, net: true } },
    values: createMemoryValueSource({
      blocks: [{
        id: "b1",
        blockTypeSlug: "local-file-system",
        name: "code",
        data: { basepath: `${dir.path}/storage` },
      }],
    }),
  });
  assert.deepEqual(outputs.remote, { directory: `${server.host}/code` });
  assert.deepEqual(outputs.block, { directory: "code" });
  assert.equal(
    await Deno.readTextFile(`${dir.path}/run/${server.host}/code/main.ts`),
    "m",
  );
  assert.equal(
    await Deno.readTextFile(`${dir.path}/run/code/flow.ts`),
    "export {};",
  );
});

Deno.test("runSteps() lets a step narrow a built-in's declared permissions", async () => {
  await using dir = await tempDir();
  await using server = serve({
    "/code.tar.gz": await gzip(
      tar([{ type: "file", path: "main.ts", content: "m" }]),
    ),
  });
  const step = (net: string[]) => ({
    "prefect.deployments.steps.pull_from_remote_storage": {
      url: `${server.origin}/code.tar.gz`,
      directory: "code",
      permissions: { read: true, write: true, net },
    },
  });
  const options = {
    workingDirectory: dir.path,
    policy: { allow: { read: true, write: true, net: true } },
  };
  await assert.rejects(
    runSteps([step(["example.com"])], options),
    (error: Error) => {
      assert.equal(error.name, "StepExecutionError");
      assert.equal((error.cause as Error).name, "StepPermissionError");
      assert.match(
        (error.cause as Error).message,
        new RegExp(`needs net access to "${server.host}"`),
      );
      return true;
    },
  );
  await assert.rejects(Deno.lstat(`${dir.path}/code`), Deno.errors.NotFound);
  await runSteps([step([server.host])], options);
  assert.equal(await Deno.readTextFile(`${dir.path}/code/main.ts`), "m");
});
