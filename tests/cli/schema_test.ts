import assert from "node:assert/strict";
import { parseStepFile } from "../../src/core/parse_step_file.ts";

type Schema = Record<string, unknown> | boolean;

const ROOT = new URL("../../", import.meta.url);
const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("schema/stepbox.schema.json", ROOT)),
) as Record<string, unknown>;

/** A small JSON Schema (draft-07 subset) checker: the keywords the step file schema uses. */
function check(value: unknown, schema: Schema, path = "$"): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  const errors: string[] = [];
  if (typeof schema.$ref === "string") {
    const target = schema.$ref.replace(/^#\//, "").split("/").reduce<unknown>(
      (node, key) => (node as Record<string, unknown>)[key],
      SCHEMA,
    );
    return check(value, target as Schema, path);
  }
  const type = schema.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    const actual = value === null
      ? "null"
      : Array.isArray(value)
      ? "array"
      : Number.isInteger(value)
      ? "integer"
      : typeof value;
    const ok = types.some((t) =>
      t === actual || (t === "number" && actual === "integer")
    );
    if (!ok) return [`${path}: expected ${types.join("|")}, found ${actual}`];
  }
  if (Array.isArray(schema.oneOf)) {
    const passing = schema.oneOf.filter((s) =>
      check(value, s as Schema, path).length === 0
    );
    if (passing.length !== 1) {
      errors.push(`${path}: matches ${passing.length} of oneOf`);
    }
  }
  if (
    typeof schema.exclusiveMinimum === "number" && typeof value === "number" &&
    value <= schema.exclusiveMinimum
  ) {
    errors.push(`${path}: must be > ${schema.exclusiveMinimum}`);
  }
  if (
    typeof schema.minimum === "number" && typeof value === "number" &&
    value < schema.minimum
  ) {
    errors.push(`${path}: must be >= ${schema.minimum}`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) =>
      errors.push(...check(item, schema.items as Schema, `${path}[${i}]`))
    );
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (
      typeof schema.maxProperties === "number" &&
      keys.length > schema.maxProperties
    ) {
      errors.push(`${path}: more than ${schema.maxProperties} keys`);
    }
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of keys) {
      const child = (value as Record<string, unknown>)[key];
      if (Object.hasOwn(properties, key)) {
        errors.push(
          ...check(child, properties[key] as Schema, `${path}.${key}`),
        );
      } else if (schema.additionalProperties !== undefined) {
        errors.push(
          ...check(
            child,
            schema.additionalProperties as Schema,
            `${path}.${key}`,
          ),
        );
      }
    }
  }
  return errors;
}

async function validate(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(path, ROOT));
  const file = await parseStepFile(text, { file: path });
  return check(file.document, SCHEMA);
}

Deno.test("schema/stepbox.schema.json accepts the examples and the valid fixtures", async () => {
  const files = [
    "examples/hello.yaml",
    "examples/secrets.yaml",
    "tests/fixtures/step_files/valid_list.yaml",
    "tests/fixtures/step_files/valid_sections.yaml",
    "tests/fixtures/step_files/valid.json",
    "tests/fixtures/step_files/secret.yaml",
  ];
  for (const file of files) {
    assert.deepEqual(await validate(file), [], file);
  }
});

Deno.test("schema/stepbox.schema.json rejects what the loader rejects", () => {
  const cases: unknown[] = [
    [{ "a.b": {}, c: 1 }],
    [{ "a.b": { timeout: 0 } }],
    [{ "a.b": { retries: 1.5 } }],
    [{ "a.b": { permissions: { network: true } } }],
    [{ "a.b": { requires: 5 } }],
    [{ "a.b": [] }],
    { pull: { "a.b": {} } },
    "text",
  ];
  for (const value of cases) {
    assert.notDeepEqual(check(value, SCHEMA), [], JSON.stringify(value));
  }
});

Deno.test("schema/stepbox.schema.json describes the built-in steps' inputs", () => {
  const step =
    (SCHEMA.definitions as Record<string, Record<string, unknown>>).step;
  const object = (step?.oneOf as Record<string, unknown>[])[1] as {
    properties: Record<string, { properties: Record<string, unknown> }>;
  };
  assert.ok(
    object.properties["prefect.deployments.steps.run_shell_script"]?.properties
      .script,
  );
  assert.ok(
    object.properties["prefect.deployments.steps.git_clone"]?.properties
      .repository,
  );
  assert.deepEqual(
    check(
      [{ "prefect.deployments.steps.run_shell_script": { script: 5 } }],
      SCHEMA,
    ).length > 0,
    true,
  );
});
