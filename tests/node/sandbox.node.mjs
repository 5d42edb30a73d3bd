// The sandbox with a Node parent: each step call runs in a permission-restricted Worker of a
// Deno host process that stepbox starts, as on Deno. Run by `deno task test` with `node --test`
// against the `dist/` that `deno task build-npm` writes; the Deno binary is found as a user's
// would be (the `deno` npm package, else `deno` on PATH).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { promisify } from "node:util";
import { withTempDir } from "./_temp_dir.mjs";
const PACKAGE = "stepbox";
const {
  createExecutor,
  createInlineExecutor,
  createSandboxExecutor,
  runSteps,
} = await import(PACKAGE);

const baseUrl = new URL("./", import.meta.url);
const run = promisify(execFile);

test("runSteps() on Node runs each step in a sandboxed Deno worker by default", async () => {
  const executor = await createExecutor("step");
  assert.deepEqual(executor.info, {
    isolation: "step",
    runtime: "node",
    enforcesPermissions: true,
  });
  await executor.close();
  const outputs = await runSteps(
    [
      { "./steps.mjs#greet": { id: "hello", name: "{{ who }}" } },
      { "./steps.mjs#shout": { text: "{{ hello.greeting }}" } },
    ],
    { baseUrl, upstreamOutputs: { who: "Node" } },
  );
  assert.deepEqual(outputs, {
    who: "Node",
    hello: { greeting: "Hello, Node!" },
    greeting: "Hello, Node!",
    shouted: "HELLO, NODE!",
  });
});

test("a sandboxed step is denied what it was not granted, and gets what it was", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "note.txt");
    await writeFile(path, "kept in the sandbox");
    const policy = { allow: { read: [dir] } };
    await assert.rejects(
      runSteps([{ "./sandboxed_steps.mjs#readText": { path } }], {
        baseUrl,
        policy,
      }),
      (error) => {
        assert.equal(error.name, "StepExecutionError");
        assert.equal(error.cause.name, "StepPermissionError");
        assert.match(error.cause.message, /read/);
        assert.match(error.cause.message, /permissions/);
        return true;
      },
    );
    const outputs = await runSteps(
      [{
        "./sandboxed_steps.mjs#readText": {
          path,
          permissions: { read: [dir] },
        },
      }],
      { baseUrl, policy },
    );
    assert.equal(outputs.text, "kept in the sandbox");
    await assert.rejects(
      runSteps(
        [{
          "./sandboxed_steps.mjs#readText": {
            path,
            permissions: { read: true },
          },
        }],
        { baseUrl, policy },
      ),
      (error) => {
        assert.equal(error.cause.name, "PolicyError");
        assert.match(error.cause.message, /beyond the run's ceiling/);
        return true;
      },
    );
  });
});

test("pool keeps a step's worker warm between calls; step starts a fresh one each time", async () => {
  for (
    const [isolation, expected] of [["pool", [1, 2, 3]], ["step", [1, 1, 1]]]
  ) {
    const executor = await createExecutor(isolation);
    try {
      const counts = [];
      for (let call = 0; call < 3; call++) {
        const outputs = await runSteps(
          [{ "./sandboxed_steps.mjs#countCalls": {} }],
          { baseUrl, executor },
        );
        counts.push(outputs.calls);
      }
      assert.deepEqual(counts, expected, isolation);
    } finally {
      await executor.close();
    }
  }
});

test("a sandboxed step that overruns its timeout, or whose run is aborted, is stopped", async () => {
  const started = performance.now();
  await assert.rejects(
    runSteps([{ "./sandboxed_steps.mjs#hang": { timeout: 0.3 } }], { baseUrl }),
    (error) => {
      assert.equal(error.cause.name, "StepTimeoutError");
      return true;
    },
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stopped by the caller")), 300);
  await assert.rejects(
    runSteps([{ "./sandboxed_steps.mjs#hang": {} }], {
      baseUrl,
      isolation: "pool",
      signal: controller.signal,
    }),
    /stopped by the caller/,
  );
  assert.ok(performance.now() - started < 10_000);
});

test("a step that exhausts its host's heap cap fails with out of memory, and the next runs", async () => {
  const executor = await createExecutor("step");
  const policy = { allow: {}, memoryMb: 64 };
  try {
    await assert.rejects(
      runSteps([{ "./sandboxed_steps.mjs#hoard": {} }], {
        baseUrl,
        executor,
        policy,
      }),
      (error) => {
        assert.equal(error.cause.name, "SandboxError");
        assert.match(error.cause.message, /ran out of memory/);
        assert.match(error.cause.message, /64 MiB/);
        return true;
      },
    );
    const outputs = await runSteps(
      [{ "./steps.mjs#greet": { name: "survivor" } }],
      { baseUrl, executor, policy },
    );
    assert.equal(outputs.greeting, "Hello, survivor!");
  } finally {
    await executor.close();
  }
});

test("built-in steps run on Node in the Deno host, and inline says where they can run", async () => {
  await withTempDir(async (dir) => {
    const policy = { allow: { run: true, read: true } };
    const outputs = await runSteps(
      [
        {
          "prefect.deployments.steps.set_working_directory": { directory: dir },
        },
        {
          "prefect.deployments.steps.run_shell_script": {
            script: "pwd",
            stream_output: false,
          },
        },
      ],
      { policy },
    );
    assert.equal(outputs.stdout, dir);
    await assert.rejects(
      runSteps(
        [{ "prefect.deployments.steps.run_shell_script": { script: "pwd" } }],
        {
          executor: createInlineExecutor(),
          policy: { ...policy, allowUnenforced: true },
        },
      ),
      (error) => {
        assert.equal(error.cause.name, "SandboxError");
        assert.match(
          error.cause.message,
          /built-in steps need Deno; use isolation "step" or "pool"/,
        );
        return true;
      },
    );
  });
});

test("a Deno binary that does not run is a SandboxError that names it", async () => {
  const executor = createSandboxExecutor({
    isolation: "step",
    denoPath: "/nonexistent/deno",
  });
  try {
    await assert.rejects(
      runSteps([{ "./steps.mjs#greet": { name: "x" } }], { baseUrl, executor }),
      (error) => {
        assert.equal(error.cause.name, "SandboxError");
        assert.match(error.cause.message, /Cannot start the sandbox host/);
        assert.match(error.cause.message, /"\/nonexistent\/deno"/);
        return true;
      },
    );
  } finally {
    await executor.close();
  }
});

test("with no Deno to be found, the first step fails saying how to install one", async () => {
  // A process of its own: the binary found is kept for the life of a process.
  const script = `
    const { runSteps } = await import("stepbox");
    try {
      await runSteps([{ "./steps.mjs#greet": { name: "x" } }], { baseUrl: ${
    JSON.stringify(baseUrl.href)
  } });
    } catch (error) {
      console.log(JSON.stringify({ name: error.cause?.name, message: error.cause?.message }));
    }`;
  const { stdout } = await run(process.execPath, [
    "--input-type=module",
    "--eval",
    script,
  ], { cwd: new URL("../../", import.meta.url), env: { PATH: "" } });
  const { name, message } = JSON.parse(stdout);
  assert.equal(name, "SandboxError");
  assert.match(message, /no Deno binary found/);
  assert.match(message, /npm install deno/);
  assert.match(message, /isolation "inline"/);
});
