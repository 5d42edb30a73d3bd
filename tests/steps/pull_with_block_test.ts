import assert from "node:assert/strict";
import { pull_with_block } from "../../src/steps/pull_with_block.ts";
import { runSteps } from "../../src/core/run_steps.ts";
import { createInlineExecutor } from "../../src/sandbox/inline.ts";
import { createMemoryValueSource } from "../../src/values/memory.ts";
import { StepExecutionError, TemplateError } from "../../src/errors.ts";
import type { RunOptions, StepEvent } from "../../src/types.ts";
import { createContext, tempDir } from "./_helpers.ts";
import { gzip, listTree, serve, tar } from "./_archives.ts";

/** The message, stack and every cause's, where a secret must not appear. */
function everything(error: unknown): string {
  let text = "";
  let e = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    text += `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n`;
    e = e.cause;
  }
  return text;
}

Deno.test("pull_with_block() pulls a local-file-system block's basepath into <block name>", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/storage/flows`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/storage/flows/flow.ts`, "export {};");
  await Deno.mkdir(`${dir.path}/run`);
  const result = await pull_with_block({
    block_document_name: "my-code",
    block_type_slug: "local-file-system",
    data: { basepath: `${dir.path}/storage` },
  }, createContext(`${dir.path}/run`));
  assert.deepEqual(result, { directory: "my-code" });
  assert.deepEqual(await listTree(`${dir.path}/run`), [
    "my-code/",
    "my-code/flows/",
    "my-code/flows/flow.ts",
  ]);
});

Deno.test("pull_with_block() pulls an http archive with the block's headers", async () => {
  await using dir = await tempDir();
  await using server = serve({
    "/code.tar.gz": await gzip(
      tar([{ type: "file", path: "main.ts", content: "m" }]),
    ),
  });
  const result = await pull_with_block({
    block_document_name: "remote",
    block_type_slug: "remote-file-system",
    data: {
      basepath: `${server.origin}/code.tar.gz`,
      settings: { headers: { authorization: "Bearer t" } },
    },
  }, createContext(dir.path));
  assert.deepEqual(result, { directory: "remote" });
  assert.equal(await Deno.readTextFile(`${dir.path}/remote/main.ts`), "m");
  assert.equal(
    server.requests.at(-1)?.headers.get("authorization"),
    "Bearer t",
  );
});

Deno.test("pull_with_block() names the block, never its data, in errors", async () => {
  await using dir = await tempDir();
  await using server = serve({});
  const context = createContext(dir.path);
  await assert.rejects(
    pull_with_block({
      block_document_name: "remote",
      block_type_slug: "remote-file-system",
      data: { url: `${server.origin}/SECRET-path/code.tar.gz` },
    }, context),
    (error: Error) => {
      assert.doesNotMatch(everything(error), /SECRET/);
      assert.equal(
        error.message,
        'Cannot run pull_with_block: cannot download the url of block "remote-file-system/remote": the server answered 404 Not Found; check the URL and its access settings',
      );
      return true;
    },
  );
  await assert.rejects(
    pull_with_block({
      block_document_name: "gone",
      block_type_slug: "local-file-system",
      data: { basepath: `${dir.path}/SECRET-dir` },
    }, context),
    {
      message:
        'Cannot run pull_with_block: the basepath of block "local-file-system/gone" does not exist; check the URL or path',
    },
  );
  assert.deepEqual(await listTree(dir.path), []);
});

Deno.test("pull_with_block() rejects missing data, unsupported blocks and bad names", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  await assert.rejects(
    pull_with_block({
      block_document_name: "code",
      block_type_slug: "local-file-system",
    }, context),
    {
      name: "TypeError",
      message:
        'Cannot run pull_with_block: the data of block "local-file-system/code" was not provided; run the step through stepbox\'s runner (it loads the block from the value source), or add data: "{{ prefect.blocks.local-file-system.code }}" to the step',
    },
  );
  await assert.rejects(
    pull_with_block({
      block_document_name: "repo",
      block_type_slug: "github-repository",
      data: {
        repository_url: "https://github.com/o/r",
        access_token: "SECRET",
      },
    }, context),
    (error: Error) => {
      assert.match(
        error.message,
        /block "github-repository\/repo" has no "basepath", "url" or "path"/,
      );
      assert.doesNotMatch(error.message, /SECRET/);
      return true;
    },
  );
  await assert.rejects(
    pull_with_block({
      block_document_name: "../up",
      block_type_slug: "local-file-system",
      data: { path: "." },
    }, context),
    /input "block_document_name" must be a block name/,
  );
  await assert.rejects(
    pull_with_block({ block_type_slug: "local-file-system" } as never, context),
    /input "block_document_name" is required/,
  );
  assert.deepEqual(await listTree(dir.path), []);
});

/** Run options for the built-in through the inline executor, which cannot confine it. */
function inlineRun(
  workingDirectory: string,
  basepath: string,
  extra: Partial<RunOptions> = {},
): RunOptions {
  return {
    executor: createInlineExecutor(),
    workingDirectory,
    policy: {
      allow: { read: true, write: true, net: true },
      allowUnenforced: true,
    },
    values: createMemoryValueSource({
      blocks: [{
        id: "b1",
        blockTypeSlug: "local-file-system",
        name: "my-code",
        data: { basepath, note: "SECRET-note" },
      }],
    }),
    ...extra,
  };
}

Deno.test("runSteps() gives pull_with_block the data of the block a plain Prefect recipe names", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/storage/flows`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/storage/flows/flow.ts`, "export {};");
  await Deno.mkdir(`${dir.path}/run`);
  const events: StepEvent[] = [];
  const secrets: string[] = [];
  const steps = [{
    "prefect.deployments.steps.pull_with_block": {
      id: "pull",
      block_document_name: "my-code",
      block_type_slug: "local-file-system",
    },
  }];
  const written = JSON.stringify(steps);
  const outputs = await runSteps(
    steps,
    inlineRun(`${dir.path}/run`, `${dir.path}/storage`, {
      onEvent: (event) => events.push(event),
      onSecret: (secret) => secrets.push(secret),
    }),
  );
  assert.deepEqual(outputs, {
    pull: { directory: "my-code" },
    directory: "my-code",
  });
  assert.deepEqual(await listTree(`${dir.path}/run`), [
    "my-code/",
    "my-code/flows/",
    "my-code/flows/flow.ts",
  ]);
  assert.deepEqual(secrets.toSorted(), [
    `${dir.path}/storage`,
    "SECRET-note",
  ]);
  assert.deepEqual(events.map((event) => event.type), [
    "step.started",
    "step.completed",
  ]);
  for (const event of events) {
    assert.deepEqual(event.inputs, {
      block_document_name: "my-code",
      block_type_slug: "local-file-system",
    });
  }
  assert.equal(JSON.stringify(steps), written);
});

Deno.test("runSteps() keeps the data a pull_with_block step gives, and names a missing block", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/other`);
  await Deno.writeTextFile(`${dir.path}/other/given.ts`, "export {};");
  await Deno.mkdir(`${dir.path}/run`);
  const outputs = await runSteps([{
    "stepbox.steps.pull_with_block": {
      block_document_name: "my-code",
      block_type_slug: "local-file-system",
      data: { basepath: `${dir.path}/other` },
    },
  }], inlineRun(`${dir.path}/run`, `${dir.path}/SECRET-missing`));
  assert.deepEqual(outputs, { directory: "my-code" });
  assert.deepEqual(await listTree(`${dir.path}/run`), [
    "my-code/",
    "my-code/given.ts",
  ]);

  await Deno.remove(`${dir.path}/run`, { recursive: true });
  await Deno.mkdir(`${dir.path}/run`);
  await assert.rejects(
    runSteps([{
      "prefect.deployments.steps.pull_with_block": {
        block_document_name: "gone",
        block_type_slug: "local-file-system",
      },
    }], inlineRun(`${dir.path}/run`, `${dir.path}/storage`)),
    (error: Error) => {
      assert.ok(error instanceof StepExecutionError);
      assert.equal(
        error.message,
        "Encountered error while running prefect.deployments.steps.pull_with_block",
      );
      assert.ok(error.cause instanceof TemplateError);
      assert.match(
        error.cause.message,
        /^Block not found: 'gone' of type 'local-file-system'/,
      );
      assert.doesNotMatch(everything(error), /SECRET/);
      return true;
    },
  );
  assert.deepEqual(await listTree(`${dir.path}/run`), []);
});
