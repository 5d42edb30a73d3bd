// The npm package on Node: what an embedding service imports. Run by `deno task test` with
// `node --test` against the `dist/` that `deno task build-npm` writes.
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { withTempDir } from "./_temp_dir.mjs";
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
  readProjectImports,
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

test("loadStepFile() reads a step file, resolves its steps beside it, and says where it is wrong", async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, "flows"));
    await writeFile(
      join(dir, "flows", "greet.mjs"),
      "export const greet = ({ name }) => ({ greeting: `Hi, ${name}` });\n",
    );
    await writeFile(
      join(dir, "flows", "flow.yaml"),
      "- ./greet.mjs#greet:\n    name: file\n",
    );
    const file = await loadStepFile("flows/flow.yaml", { cwd: dir });
    assert.equal(file.path, join(dir, "flows", "flow.yaml"));
    assert.equal(file.baseUrl, pathToFileURL(join(dir, "flows")).href + "/");
    const outputs = await runSteps(file.steps, {
      baseUrl: file.baseUrl,
      executor: createInlineExecutor(),
    });
    assert.equal(outputs.greeting, "Hi, file");
    await writeFile(
      join(dir, "bad.yaml"),
      "- ./greet.mjs#greet:\n  timeout: soon\n",
    );
    await assert.rejects(loadStepFile(join(dir, "bad.yaml")), {
      name: "StepFileError",
      message: /bad\.yaml:2:\d+: /,
    });
    await assert.rejects(loadStepFile("missing.yaml", { cwd: dir }), {
      name: "StepFileError",
      message:
        'missing.yaml: Cannot read step file "missing.yaml": it does not exist; check the path, or create it',
    });
    await assert.rejects(loadStepFile(dir), { message: /it is a directory/ });
  });
});

test("readImportMap() and readProjectImports() read JSON and deno.json(c) files", async () => {
  await withTempDir(async (dir) => {
    await writeFile(
      join(dir, "map.json"),
      JSON.stringify({
        imports: { lodash: "npm:lodash@4", util: "./util.ts" },
      }),
    );
    assert.deepEqual(await readImportMap("map.json", { cwd: dir }), {
      lodash: "npm:lodash@4",
      util: pathToFileURL(join(dir, "util.ts")).href,
    });
    await assert.rejects(readImportMap(join(dir, "none.json")), {
      name: "ImportMapError",
      message: /does not exist/,
    });
    await writeFile(
      join(dir, "deno.jsonc"),
      '{\n  // steps\n  "imports": { "yaml": "npm:yaml@2" },\n}\n',
    );
    await mkdir(join(dir, "flows"));
    const found = await readProjectImports(join(dir, "flows"));
    assert.deepEqual(found.imports, { yaml: "npm:yaml@2" });
    assert.equal(found.configFile, join(dir, "deno.jsonc"));
  });
});

test("FileStore keeps variables and secret blocks in files, written atomically", async () => {
  await withTempDir(async (dir) => {
    const store = FileStore.fromEnvironment({ cwd: dir, env: {} });
    await store.setVariable("region", "eu-west-3");
    await store.setBlock("secret", "api-token", { value: "s3cr3t" });
    assert.equal(await store.variable("region"), "eu-west-3");
    assert.equal(await store.variable("missing"), undefined);
    const block = await store.blockByName("secret", "api-token");
    assert.deepEqual(block.data, { value: "s3cr3t" });
    assert.equal((await store.blockById(block.id)).name, "api-token");
    const secret = await stat(
      join(dir, ".stepbox", "blocks", "secret", "api-token.json"),
    );
    assert.equal(secret.mode & 0o777, 0o600);
    assert.match(
      await readFile(join(dir, ".stepbox", ".gitignore"), "utf8"),
      /^\*$/m,
    );
    assert.deepEqual(
      await resolveVariables(
        { where: "{{ prefect.variables.region }}" },
        { values: store },
      ),
      { where: "eu-west-3" },
    );
    assert.equal(await store.removeVariable("region"), true);
    assert.equal(await store.removeVariable("region"), false);
    assert.deepEqual(await store.listVariables(), []);
  });
});
