import assert from "node:assert/strict";
import {
  applyValues,
  findPlaceholders,
  getFromDict,
  NotSet,
} from "../../src/core/templating.ts";

Deno.test("findPlaceholders() classifies stepbox aliases like Prefect's prefixes", () => {
  assert.deepEqual(
    findPlaceholders(
      "{{ stepbox.blocks.secret.t }} {{ stepbox.variables.v }} {{ $E }} {{ s }}",
    ).map((p) => p.type),
    ["block_document", "variable", "env_var", "standard"],
  );
});

Deno.test("findPlaceholders() rejects a Date, naming where it is", () => {
  assert.throws(
    () => findPlaceholders({ a: { when: new Date(0) } }),
    (error: Error) =>
      error instanceof TypeError &&
      /Unexpected type: object/.test(error.message) &&
      error.message.includes('"a.when"'),
  );
});

Deno.test("findPlaceholders() rejects a cyclic template instead of looping", () => {
  const cyclic: Record<string, unknown> = { a: "{{ x }}" };
  cyclic.self = cyclic;
  assert.throws(() => findPlaceholders(cyclic), /cyclic value/);
});

Deno.test("getFromDict() ignores inherited members and __proto__", () => {
  assert.equal(getFromDict({ a: {} }, "a.toString"), NotSet);
  assert.equal(getFromDict({ a: {} }, "a.__proto__"), NotSet);
  const own = JSON.parse('{"__proto__": {"x": 1}}');
  assert.equal(getFromDict(own, "__proto__.x"), 1);
});

Deno.test("getFromDict() parses integer segments the way Python's int() does", () => {
  const list = ["a", "b", "c"];
  assert.equal(getFromDict({ l: list }, "l.+1"), "b");
  assert.equal(getFromDict({ l: list }, "l.-3"), "a");
  assert.equal(getFromDict({ l: list }, "l.-4", "miss"), "miss");
  assert.equal(getFromDict({ l: list }, "l.0_1", "miss"), "b");
  assert.equal(getFromDict({ n: 5 }, "n.0", "miss"), "miss");
});

Deno.test("applyValues() reads $NAME only from the env option, never the process", () => {
  const path = Deno.env.get("PATH");
  assert.ok(path !== undefined && path !== "");
  assert.equal(applyValues("[{{ $PATH }}]", {}), "[]");
  assert.equal(
    applyValues("[{{ $PATH }}]", {}, { env: { PATH: "/x" } }),
    "[/x]",
  );
});

Deno.test("applyValues() never mutates the template or the values", () => {
  const template = {
    a: "{{ x }}",
    b: ["{{ missing }}", "{{ y.z }}"],
    c: { d: "p-{{ x }}" },
  };
  const values = { x: { deep: [1] }, y: { z: "zz" } };
  const templateCopy = structuredClone(template);
  const valuesCopy = structuredClone(values);
  const result = applyValues(template, values) as Record<string, unknown>;
  assert.deepEqual(template, templateCopy);
  assert.deepEqual(values, valuesCopy);
  assert.deepEqual(result, {
    a: { deep: [1] },
    b: ["zz"],
    c: { d: 'p-{"deep":[1]}' },
  });
  assert.notEqual(result.b, template.b);
});

Deno.test("applyValues() keeps a __proto__ key as data", () => {
  const template = JSON.parse('{"__proto__": "{{ x }}", "y": 1}');
  const result = applyValues(template, { x: "polluted" }) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(
    Object.getOwnPropertyDescriptor(result, "__proto__")?.value,
    "polluted",
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("applyValues() rejects values that are not data, naming the key path", () => {
  assert.throws(
    () => applyValues({ a: [1, () => 2] }, {}),
    (error: Error) =>
      error instanceof TypeError && error.message.includes('"a[1]"') &&
      error.message.includes("function"),
  );
  assert.throws(
    () => applyValues({ when: new Date(0) }, {}),
    /Unexpected template type "Date" at "when"/,
  );
});

Deno.test("applyValues() rejects a cyclic template", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.again = [cyclic];
  assert.throws(() => applyValues(cyclic, {}), /cyclic value/);
});

Deno.test("applyValues() warns only through the hook and only when asked", () => {
  const unasked: string[] = [];
  applyValues("{{ gone }}", {}, { warn: (m) => unasked.push(m) });
  assert.equal(unasked.length, 0);
  const warnings: string[] = [];
  applyValues("{{ gone }}", {}, {
    warnOnNotset: true,
    warn: (m) => warnings.push(m),
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /"\{\{ gone \}\}" not found/);
});

Deno.test("applyValues() looks each distinct placeholder of a string up once", () => {
  let lookups = 0;
  const values = new Proxy({ x: "v" }, {
    getOwnPropertyDescriptor(target, key) {
      lookups++;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
  const text = "{{ x }}-".repeat(10_000);
  const result = applyValues(text, values) as string;
  assert.equal(result, "v-".repeat(10_000));
  assert.equal(lookups, 1);
});

Deno.test("applyValues() resolves a 1 MB input with many placeholders in linear time", () => {
  // Replacing each distinct placeholder over the whole text would copy the megabyte once per
  // placeholder (5,000 distinct ones: about 5 * 10^9 character copies, minutes); one scan
  // takes milliseconds. The bound is two orders of magnitude above the linear cost.
  const parts: string[] = [];
  for (let i = 0; i < 12_000; i++) {
    parts.push("x".repeat(80), `{{ k${i % 5000} }}`);
  }
  const big = parts.join("");
  assert.ok(big.length > 1_000_000);
  const template = {
    nested: { list: [big.slice(0, 500_000), { deeper: big.slice(500_000) }] },
    keys: Array.from({ length: 300 }, (_, i) => `{{ k${i} }}`),
  };
  const values: Record<string, unknown> = {};
  for (let i = 0; i < 5000; i++) values[`k${i}`] = i % 10;
  const started = performance.now();
  const result = applyValues(template, values) as {
    keys: number[];
    nested: { list: [string, { deeper: string }] };
  };
  const elapsed = performance.now() - started;
  assert.deepEqual(result.keys, Array.from({ length: 300 }, (_, i) => i % 10));
  assert.ok(result.nested.list[0].startsWith("x".repeat(80) + "0" + "x"));
  assert.ok(!result.nested.list[1].deeper.includes("{{ k"));
  assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
});

Deno.test("applyValues() leaves a NotSet template value as NotSet at the top level", () => {
  assert.equal(applyValues(NotSet, {}), NotSet);
  assert.deepEqual(applyValues([NotSet, 1], {}), [1]);
});
