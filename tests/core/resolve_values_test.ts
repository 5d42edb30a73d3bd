import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import {
  createValueCache,
  resolveBlockReferences,
  resolveInputs,
  resolveStepInputs,
  resolveVariables,
} from "../../src/core/resolve_values.ts";
import { parseStep } from "../../src/core/parse_step.ts";
import { createMemoryValueSource } from "../../src/values/memory.ts";
import type { ValueSource } from "../../src/values/value_source.ts";
import type { BlockDocument } from "../../src/types.ts";

const BLOCKS: BlockDocument[] = [
  {
    id: "b1",
    blockTypeSlug: "secret",
    name: "token",
    data: { value: "s3cr3t" },
  },
  {
    id: "b2",
    blockTypeSlug: "webhook",
    name: "hook",
    data: { url: "https://h.example", headers: { auth: "Bearer x" } },
  },
];

/** A value source that counts its reads. */
function countingSource(
  source: ValueSource,
): ValueSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    variable(name) {
      reads.push(`variable:${name}`);
      return source.variable(name);
    },
    blockByName(slug, name) {
      reads.push(`block:${slug}/${name}`);
      return source.blockByName(slug, name);
    },
    blockById(id) {
      reads.push(`id:${id}`);
      return source.blockById(id);
    },
  };
}

Deno.test("resolveBlockReferences() fails on a missing block, naming its type and name", async () => {
  await assert.rejects(
    resolveBlockReferences({ k: "{{ prefect.blocks.aws-credentials.prod }}" }),
    (error: Error) =>
      error instanceof TemplateError &&
      error.message.includes(
        "Block not found: 'prod' of type 'aws-credentials'",
      ),
  );
});

Deno.test("resolveBlockReferences() shows the expected format for a malformed placeholder", async () => {
  await assert.rejects(
    resolveBlockReferences("{{ prefect.blocks.only-type }}"),
    (error: Error) =>
      error instanceof TemplateError &&
      error.message.includes("Invalid block placeholder format") &&
      error.message.includes(
        "prefect.blocks.<block-type-slug>.<block-document-name>",
      ),
  );
  await assert.rejects(
    resolveBlockReferences("x {{ stepbox.blocks.only-type }}"),
    /stepbox\.blocks\.<block-type-slug>\.<block-document-name>/,
  );
});

Deno.test("resolveBlockReferences() accepts the stepbox.blocks alias", async () => {
  const values = createMemoryValueSource({ blocks: BLOCKS });
  assert.equal(
    await resolveBlockReferences("{{ stepbox.blocks.secret.token }}", {
      values,
    }),
    "s3cr3t",
  );
});

Deno.test("resolveBlockReferences() keeps secrets out of its error messages", async () => {
  const values = createMemoryValueSource({ blocks: BLOCKS });
  for (
    const template of [
      "{{ prefect.blocks.webhook.hook.nope }}",
      "x {{ prefect.blocks.webhook.hook.headers }}",
    ]
  ) {
    await assert.rejects(
      resolveBlockReferences(template, { values }),
      (error: Error) => {
        assert.ok(!error.message.includes("Bearer x"), error.message);
        assert.ok(!error.message.includes("h.example"), error.message);
        return true;
      },
    );
  }
});

Deno.test("resolveBlockReferences() fails on a $ref to a missing id", async () => {
  await assert.rejects(
    resolveBlockReferences({ a: { $ref: { block_document_id: "nope" } } }),
    /no block document with id 'nope'/,
  );
});

Deno.test("resolveBlockReferences() reads each block once and reports its secrets", async () => {
  const source = countingSource(createMemoryValueSource({ blocks: BLOCKS }));
  const secrets: string[] = [];
  const result = await resolveBlockReferences(
    {
      a: "{{ prefect.blocks.secret.token }}",
      b: "x-{{ prefect.blocks.secret.token }}-{{ prefect.blocks.webhook.hook.url }}",
      c: ["{{ prefect.blocks.webhook.hook }}"],
    },
    { values: source, onSecret: (s) => secrets.push(s) },
  );
  assert.deepEqual(result, {
    a: "s3cr3t",
    b: "x-s3cr3t-https://h.example",
    c: [{ url: "https://h.example", headers: { auth: "Bearer x" } }],
  });
  assert.deepEqual(source.reads.sort(), [
    "block:secret/token",
    "block:webhook/hook",
  ]);
  assert.deepEqual(secrets.sort(), ["Bearer x", "https://h.example", "s3cr3t"]);
});

Deno.test("resolveBlockReferences() does not mutate the template or the block data", async () => {
  const blocks = structuredClone(BLOCKS);
  const values = createMemoryValueSource({ blocks });
  const template = {
    a: ["{{ prefect.blocks.webhook.hook }}"],
    r: { $ref: { block_document_id: "b2" } },
  };
  const before = structuredClone(template);
  const result = await resolveBlockReferences(template, { values }) as {
    a: [{ headers: { auth: string } }];
    r: { headers: { auth: string } };
  };
  result.a[0].headers.auth = "changed";
  assert.equal(result.r.headers.auth, "Bearer x");
  assert.deepEqual(template, before);
  assert.deepEqual(blocks, BLOCKS);
  assert.deepEqual(
    await resolveBlockReferences(
      "{{ prefect.blocks.webhook.hook.headers.auth }}",
      { values },
    ),
    "Bearer x",
  );
});

Deno.test("createValueCache() shares reads between calls of one run", async () => {
  const source = countingSource(
    createMemoryValueSource({ blocks: BLOCKS, variables: { v: 1 } }),
  );
  const cache = createValueCache(source);
  await resolveVariables("{{ prefect.variables.v }}", { cache });
  await resolveVariables(
    "{{ prefect.variables.v }}-{{ prefect.variables.gone }}",
    { cache },
  );
  await resolveBlockReferences("{{ prefect.blocks.secret.token }}", { cache });
  await resolveInputs({ a: "{{ prefect.blocks.secret.token }}" }, { cache });
  assert.deepEqual(source.reads.sort(), [
    "block:secret/token",
    "variable:gone",
    "variable:v",
  ]);
});

Deno.test("resolveVariables() accepts the stepbox.variables alias and keeps types", async () => {
  const values = createMemoryValueSource({ variables: { n: 3, list: [1] } });
  assert.deepEqual(
    await resolveVariables(
      { a: "{{ stepbox.variables.n }}", b: "{{ prefect.variables.list }}" },
      { values },
    ),
    { a: 3, b: [1] },
  );
});

Deno.test("resolveInputs() resolves every kind once and never re-scans inserted text", async () => {
  const values = createMemoryValueSource({
    variables: { v: "{{ $SECRET }}", w: "W" },
    blocks: [
      {
        id: "1",
        blockTypeSlug: "secret",
        name: "s",
        data: { value: "{{ prefect.variables.w }}" },
      },
    ],
  });
  const resolved = await resolveInputs(
    {
      up: "{{ out }}",
      env: "{{ $SECRET }}",
      variable: "{{ prefect.variables.v }}",
      block: "{{ prefect.blocks.secret.s }}",
      mixed:
        "{{ out }}|{{ $SECRET }}|{{ prefect.variables.w }}|{{ prefect.blocks.secret.s }}",
      gone: "{{ not_there }}",
    },
    {
      upstreamOutputs: { out: "{{ $SECRET }}" },
      env: { SECRET: "top" },
      cache: createValueCache(values),
    },
  );
  assert.deepEqual(resolved, {
    up: "{{ $SECRET }}",
    env: "top",
    variable: "{{ $SECRET }}",
    block: "{{ prefect.variables.w }}",
    mixed: "{{ $SECRET }}|top|W|{{ prefect.variables.w }}",
  });
});

Deno.test("resolveInputs() warns about missing standard and env placeholders through the hook", async () => {
  const warnings: string[] = [];
  await resolveInputs(
    { a: "{{ missing }}", b: "x{{ $NOPE }}" },
    { warn: (message) => warnings.push(message) },
  );
  assert.equal(warnings.length, 2);
});

Deno.test("resolveInputs() reads what parseStep found in a step's inputs, once each", async () => {
  const source = countingSource(
    createMemoryValueSource({ blocks: BLOCKS, variables: { region: "eu" } }),
  );
  const parsed = parseStep({
    "a.b": {
      token: "{{ prefect.blocks.secret.token }}",
      text: "{{ prefect.variables.region }}-{{ prefect.variables.region }}",
      ref: {
        $ref: { block_document_id: "b2" },
        ignored: "{{ prefect.variables.inside_ref }}",
      },
      list: ["{{ prefect.blocks.webhook.hook.headers.auth }}"],
    },
  }, 0);
  assert.ok(parsed !== undefined);
  const resolved = await resolveInputs(parsed.inputs, {
    cache: createValueCache(source),
  });
  assert.deepEqual(resolved, {
    token: "s3cr3t",
    text: "eu-eu",
    ref: { url: "https://h.example", headers: { auth: "Bearer x" } },
    list: ["Bearer x"],
  });
  assert.deepEqual(source.reads.toSorted(), [
    "block:secret/token",
    "block:webhook/hook",
    "id:b2",
    "variable:region",
  ]);
});

Deno.test("resolveInputs() resolves a parsed step whose nested inputs changed since, warning once", async () => {
  const source = countingSource(
    createMemoryValueSource({ blocks: BLOCKS, variables: { late: "L" } }),
  );
  const nested: unknown[] = ["{{ prefect.variables.gone }}", "{{ missing }}"];
  const parsed = parseStep({ "a.b": { nested } }, 0);
  assert.ok(parsed !== undefined);
  // The caller's own list changes between validation and the run.
  nested.push(
    "{{ prefect.blocks.secret.token }}",
    "x {{ prefect.variables.late }}",
  );
  nested.shift();
  const warnings: string[] = [];
  const resolved = await resolveInputs(parsed.inputs, {
    cache: createValueCache(source),
    warn: (message) => warnings.push(message),
  });
  assert.deepEqual(resolved, { nested: ["s3cr3t", "x L"] });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /\{\{ missing \}\}/);
  assert.ok(source.reads.includes("block:secret/token"));

  nested.push("{{ prefect.blocks.secret.nope }}");
  await assert.rejects(
    resolveInputs(parsed.inputs, { cache: createValueCache(source) }),
    /Block not found: 'nope' of type 'secret'/,
  );
});

Deno.test("resolveStepInputs() shares what did not change and copies the paths that did", async () => {
  const inputs = JSON.parse(JSON.stringify({
    same: { rows: [1, { deep: "x" }] },
    list: ["a", "{{ gone }}", "{{ n }}", { k: "v" }],
    map: { first: "1", second: "{{ gone }}", third: "{{ $HOME }}", last: [2] },
  }));
  inputs.map = JSON.parse(
    '{"__proto__": {"p": 1}, "first": "1", "second": "{{ gone }}", "third": "{{ $HOME }}", "last": [2]}',
  );
  const before = structuredClone(inputs);
  const options = { upstreamOutputs: { n: 7 }, env: { HOME: "/h" } };
  const shared = await resolveStepInputs(inputs, options) as typeof inputs;
  const copied = await resolveInputs(inputs, options) as typeof inputs;
  assert.deepEqual(shared, copied);
  assert.deepEqual(shared.list, ["a", 7, { k: "v" }]);
  assert.equal(shared.same, inputs.same);
  assert.equal(shared.list[2], inputs.list[3]);
  assert.notEqual(shared.list, inputs.list);
  assert.notEqual(shared.map, inputs.map);
  assert.equal(shared.map.last, inputs.map.last);
  assert.ok(Object.hasOwn(shared.map, "__proto__"));
  assert.equal(Object.getPrototypeOf(shared.map), Object.prototype);
  assert.deepEqual(Object.keys(shared.map), [
    "__proto__",
    "first",
    "third",
    "last",
  ]);
  assert.equal(shared.map.third, "/h");
  assert.notEqual(copied.same, inputs.same);
  assert.deepEqual(inputs, before);

  const untouched = { a: [1, 2], b: { c: "d" } };
  assert.equal(await resolveStepInputs(untouched), untouched);
});
