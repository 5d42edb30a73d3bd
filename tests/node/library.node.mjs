// The npm package on Node: what an embedding service imports. Run by `deno task test` with
// `node --test` against the `dist/` that `deno task build-npm` writes.
import assert from "node:assert/strict";
import { test } from "node:test";
// By its package name, as an application imports it; resolved only when Node runs this (the
// build is not there for deno check to see).
const PACKAGE = "stepbox";
const {
  applyValues,
  createInlineExecutor,
  createMemoryValueSource,
  detectRuntime,
  FileStore,
  loadStepFile,
  parseStepFile,
  readImportMap,
  resolveBlockReferences,
  resolveVariables,
  runSteps,
} = await import(PACKAGE);

const baseUrl = new URL("./", import.meta.url);

test("detectRuntime() says node", () => {
  assert.equal(detectRuntime(), "node");
});

test("runSteps() runs a pipeline inline, each step templated on the ones before", async () => {
  const executor = createInlineExecutor();
  const outputs = await runSteps(
    [
      { "./steps.mjs#greet": { id: "hello", name: "{{ who }}" } },
      { "./steps.mjs#shout": { text: "{{ hello.greeting }}" } },
      {
        "./steps.mjs#count": {
          text: "{{ shouted }} and {{ $GREETING_SUFFIX }}",
        },
      },
    ],
    {
      executor,
      baseUrl,
      upstreamOutputs: { who: "Node" },
      env: { GREETING_SUFFIX: "more words" },
    },
  );
  assert.deepEqual(outputs, {
    who: "Node",
    hello: { greeting: "Hello, Node!" },
    greeting: "Hello, Node!",
    shouted: "HELLO, NODE!",
    words: 5,
  });
  await executor.close();
});

test("a failing step rejects with StepExecutionError, its error intact as the cause", async () => {
  await assert.rejects(
    runSteps([{ "./steps.mjs#deploy": { target: "prod" } }], {
      executor: createInlineExecutor(),
      baseUrl,
    }),
    (error) => {
      assert.equal(error.name, "StepExecutionError");
      assert.equal(
        error.message,
        "Encountered error while running ./steps.mjs#deploy",
      );
      assert.equal(error.cause.name, "DeployError");
      assert.equal(error.cause.code, "E_DEPLOY");
      assert.equal(error.cause.cause.message, "upload failed");
      return true;
    },
  );
});

test("inline refuses a step that asks for permissions it cannot enforce", async () => {
  await assert.rejects(
    runSteps(
      [{ "./steps.mjs#greet": { name: "x", permissions: { read: true } } }],
      {
        executor: createInlineExecutor(),
        baseUrl,
        policy: { allow: { read: true } },
      },
    ),
    (error) => {
      assert.equal(error.name, "StepExecutionError");
      assert.equal(error.cause.name, "PolicyError");
      assert.match(error.cause.message, /cannot enforce permissions/);
      return true;
    },
  );
});

test("parseStepFile() reports a mistake at its line and column", async () => {
  await assert.rejects(
    parseStepFile("- ./steps.mjs#greet:\n    name: x\n  timeout: soon\n", {
      file: "flow.yaml",
    }),
    (error) => {
      assert.equal(error.name, "StepFileError");
      assert.match(error.message, /^flow\.yaml:\d+:\d+: /);
      return true;
    },
  );
  const parsed = await parseStepFile(
    "build:\n  - ./steps.mjs#greet:\n      name: x\n",
    { file: "flow.yaml" },
  );
  assert.deepEqual(parsed.sections.build, [{
    "./steps.mjs#greet": { name: "x" },
  }]);
});

test("applyValues() fills placeholders, and variables and blocks resolve from a value source", async () => {
  assert.deepEqual(
    applyValues({ greeting: "Hello, {{ name }}!", count: "{{ n }}" }, {
      name: "Node",
      n: 3,
    }),
    { greeting: "Hello, Node!", count: 3 },
  );
  const values = createMemoryValueSource({
    variables: { region: "eu-west-1" },
    blocks: [{
      id: "b1",
      blockTypeSlug: "secret",
      name: "token",
      data: { value: "s3cr3t" },
    }],
  });
  const template = {
    region: "{{ prefect.variables.region }}",
    token: "{{ prefect.blocks.secret.token }}",
  };
  const resolved = await resolveBlockReferences(
    await resolveVariables(template, { values }),
    { values },
  );
  assert.deepEqual(resolved, { region: "eu-west-1", token: "s3cr3t" });
});

test("the file-reading helpers say this runtime reads no files, and what to use instead", async () => {
  await assert.rejects(loadStepFile("flow.yaml"), {
    name: "StepFileError",
    message:
      'flow.yaml: Cannot read step file "flow.yaml": this runtime has no Deno file system API (stepbox on Node reads no files itself); read it yourself and pass its text to parseStepFile()',
  });
  await assert.rejects(readImportMap("map.json"), {
    name: "ImportMapError",
    message: /no Deno file system API .*importMap option/,
  });
  assert.throws(() => new FileStore("/tmp/store"), {
    name: "ValueStoreError",
    message:
      /no Deno file system API .*createMemoryValueSource\(\) or PrefectClient/,
  });
});
