import assert from "node:assert/strict";
import { parseStepFile } from "../../src/core/parse_step_file.ts";
import { StepFileError } from "../../src/errors.ts";

const FIXTURES = new URL("../fixtures/step_files/", import.meta.url);

async function fixture(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(name, FIXTURES));
}

async function parseError(
  text: string,
  file = "f.yaml",
): Promise<StepFileError> {
  try {
    await parseStepFile(text, { file });
  } catch (error) {
    assert.ok(error instanceof StepFileError, `not a StepFileError: ${error}`);
    return error;
  }
  assert.fail("parseStepFile() did not throw");
}

Deno.test("parseStepFile() reads a list of steps", async () => {
  const file = await parseStepFile(await fixture("valid_list.yaml"));
  assert.equal(file.form, "list");
  assert.equal(file.steps.length, 2);
  assert.deepEqual(file.sections, {});
  assert.deepEqual(file.steps[0], {
    "./steps/echo.ts#echo": { id: "first", greeting: "hello" },
  });
});

Deno.test("parseStepFile() reads prefect.yaml sections and keeps other keys", async () => {
  const file = await parseStepFile(await fixture("valid_sections.yaml"));
  assert.equal(file.form, "sections");
  assert.deepEqual(Object.keys(file.sections), ["build", "push", "pull"]);
  assert.deepEqual(file.sections.build, []);
  assert.equal(file.sections.pull?.length, 1);
  assert.equal((file.document as { name: string }).name, "demo");
  assert.equal(
    (file.document as { deployments: unknown[] }).deployments.length,
    1,
  );
});

Deno.test("parseStepFile() reads JSON", async () => {
  const file = await parseStepFile(await fixture("valid.json"));
  assert.deepEqual(file.steps, [{ "./steps/echo.ts#echo": { json: true } }]);
});

Deno.test("parseStepFile() keeps values as JSON data (no timestamps, merge keys work)", async () => {
  const file = await parseStepFile(
    "- a.b:\n    date: 2024-01-02\n    base: &base { x: 1 }\n    merged: { <<: *base, y: 2 }\n",
  );
  assert.deepEqual(file.steps[0], {
    "a.b": { date: "2024-01-02", base: { x: 1 }, merged: { x: 1, y: 2 } },
  });
});

Deno.test("parseStepFile() locates steps and their keys", async () => {
  const file = await parseStepFile(await fixture("valid_sections.yaml"), {
    file: "prefect.yaml",
  });
  assert.deepEqual(await file.locate({ section: "pull", index: 0 }), {
    file: "prefect.yaml",
    line: 8,
    column: 5,
  });
  assert.deepEqual(
    await file.locate({
      section: "push",
      index: 0,
      key: "./steps/echo.ts#echo",
    }),
    { file: "prefect.yaml", line: 5, column: 5 },
  );
  assert.equal(await file.locate({ section: "pull", index: 5 }), undefined);
  assert.equal(await file.locate({ section: "build", index: 0 }), undefined);
});

Deno.test("parseStepFile() reports a step with two keys at the second key", async () => {
  const error = await parseError(
    await fixture("two_keys.yaml"),
    "two_keys.yaml",
  );
  assert.equal(
    error.message,
    "two_keys.yaml:3:5: Step has unexpected additional keys: directory",
  );
  assert.equal(error.line, 3);
  assert.equal(error.column, 5);
  assert.equal(error.path, "pull[0].directory");
});

Deno.test("parseStepFile() reports bad indentation with its position", async () => {
  const error = await parseError(await fixture("bad_indentation.yaml"));
  assert.match(
    error.message,
    /^f\.yaml:3:4: Bad indentation of a mapping entry/,
  );
  assert.match(error.snippet ?? "", /\n {3}\^$/);
});

Deno.test("parseStepFile() suggests the section an unknown key was meant to be", async () => {
  const error = await parseError(await fixture("unknown_section.yaml"));
  assert.equal(
    error.message,
    'f.yaml:1:1: Unknown section "biuld": did you mean "build"?',
  );
  const steps = await parseError("steps:\n  - a.b: {}\n");
  assert.match(
    steps.message,
    /^f\.yaml:1:1: Unknown section "steps": steps go under build, push or pull/,
  );
});

Deno.test("parseStepFile() rejects a section that is not a list", async () => {
  const error = await parseError(await fixture("section_not_list.yaml"));
  assert.equal(
    error.message,
    'f.yaml:2:3: Section "pull" must be a list of steps, found a mapping',
  );
});

Deno.test("parseStepFile() reports YAML syntax errors with line and column", async () => {
  const error = await parseError(await fixture("syntax_error.yaml"));
  assert.match(
    error.message,
    /^f\.yaml:3:1: Cannot parse YAML: unexpected end of the stream/,
  );
});

Deno.test("parseStepFile() rejects duplicate keys, naming the key", async () => {
  const error = await parseError(await fixture("duplicate_keys.yaml"));
  assert.equal(
    error.message,
    'f.yaml:3:5: Duplicate key "a": each key may appear only once in a mapping',
  );
  const json = await parseError('{"pull": [], "pull": []}');
  assert.match(json.message, /Duplicate key "pull"/);
});

Deno.test("parseStepFile() rejects an empty file", async () => {
  for (const text of ["", "\n\n", await fixture("empty.yaml")]) {
    const error = await parseError(text);
    assert.match(
      error.message,
      /^f\.yaml:1:1: Cannot parse step file: it is empty/,
    );
  }
});

Deno.test("parseStepFile() rejects scalars and mappings without sections", async () => {
  assert.match(
    (await parseError("hello\n")).message,
    /expected a list of steps or a mapping with build, push or pull sections, found the string "hello"/,
  );
  assert.match(
    (await parseError("foo: bar\n")).message,
    /found a mapping without build, push or pull sections/,
  );
});

Deno.test("parseStepFile() rejects malformed steps with their position", async () => {
  assert.equal(
    (await parseError("- 5\n")).message,
    "f.yaml:1:3: Step must be a mapping with one key, the step reference, found the number 5",
  );
  assert.equal(
    (await parseError("- a.b: [1]\n")).message,
    'f.yaml:1:8: Inputs of step "a.b" must be a mapping, found a list',
  );
});

Deno.test("parseStepFile() skips empty steps", async () => {
  const file = await parseStepFile("- null\n- {}\n- a.b: {}\n");
  assert.equal(file.steps.length, 3);
});

Deno.test("parseStepFile() rejects an alias bomb quickly", async () => {
  const started = performance.now();
  const error = await parseError(await fixture("billion_laughs.yaml"));
  assert.match(error.message, /aliases expand to more than 100000 extra nodes/);
  assert.equal(error.line, 2);
  assert.ok(performance.now() - started < 5000);
});

Deno.test("parseStepFile() accepts modest alias use", async () => {
  const file = await parseStepFile(
    "- a.b:\n    one: &x { k: [1, 2, 3] }\n    two: *x\n    three: *x\n",
  );
  assert.deepEqual(
    (file.steps[0] as Record<string, Record<string, unknown>>)["a.b"]?.three,
    {
      k: [1, 2, 3],
    },
  );
});

Deno.test("parseStepFile() rejects a self-referencing alias", async () => {
  const error = await parseError("- &a [*a]\n");
  assert.match(error.message, /an alias refers to its own anchor/);
});

Deno.test("parseStepFile() never lets __proto__ or constructor reach a prototype", async () => {
  const file = await parseStepFile(await fixture("proto_keys.yaml"));
  const inputs = (file.steps[0] as Record<string, Record<string, unknown>>)[
    "./steps/echo.ts#echo"
  ] as Record<string, unknown>;
  assert.ok(Object.hasOwn(inputs, "__proto__"));
  assert.equal(Object.getPrototypeOf(inputs), Object.prototype);
  assert.equal((inputs as { polluted?: unknown }).polluted, undefined);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  assert.equal(
    Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"),
    false,
  );
});

Deno.test("parseStepFile() reports a bad permissions keyword at the keyword", async () => {
  const error = await parseError(
    "- a.b:\n    x: 1\n    permissions:\n      network: true\n",
  );
  assert.equal(error.line, 4);
  assert.match(error.message, /unknown permission kind "network"/);
});

Deno.test("parseStepFile() rejects unknown tags instead of running code", async () => {
  const error = await parseError(
    "- a.b:\n    f: !!js/function 'function () {}'\n",
  );
  assert.match(error.message, /^f\.yaml:2:\d+: Cannot parse YAML: unknown tag/);
});

Deno.test("parseStepFile() rejects tabs in indentation", async () => {
  const error = await parseError("- a.b:\n\tx: 1\n");
  assert.match(
    error.message,
    /^f\.yaml:2:1: Cannot parse YAML: tab characters/,
  );
});

Deno.test("parseStepFile() reports reserved keyword errors at the keyword", async () => {
  const error = await parseError("- a.b:\n    x: 1\n    timeout: -1\n");
  assert.equal(error.line, 3);
  assert.equal(error.column, 14);
  assert.match(error.message, /"timeout" must be a positive number of seconds/);
});

Deno.test("parseStepFile() loads 10,000 steps and locates the last one", async () => {
  let text = "pull:\n";
  for (let i = 0; i < 10_000; i++) {
    text +=
      `  - prefect.deployments.steps.run_shell_script:\n      id: s${i}\n      script: echo {{ s${i}.stdout }}\n`;
  }
  const file = await parseStepFile(text);
  assert.equal(file.sections.pull?.length, 10_000);
  assert.deepEqual(await file.locate({ section: "pull", index: 9_999 }), {
    line: 29_999,
    column: 5,
  });
});
