import assert from "node:assert/strict";

const MOD_URL = new URL("../src/mod.ts", import.meta.url);

Deno.test("src/mod.ts can be imported from a project without stepbox's deno.json", async () => {
  // A project of its own: no deno.json, no import map, so every dependency of stepbox must
  // resolve from stepbox's own source.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/step.ts`,
      "export function hi(i: { name: string }) { return { greeting: `hi ${i.name}` }; }\n",
    );
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { createMemoryValueSource, runSteps } from ${
        JSON.stringify(MOD_URL.href)
      };\n` +
        `const outputs = await runSteps(\n` +
        `  [{ "./step.ts#hi": { name: "{{ prefect.variables.who }}" } }],\n` +
        `  {\n` +
        `    baseUrl: new URL("./", import.meta.url),\n` +
        `    values: createMemoryValueSource({ variables: { who: "embedder" } }),\n` +
        `  },\n` +
        `);\n` +
        `console.log(JSON.stringify(outputs));\n`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", "main.ts"],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, errors);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      greeting: "hi embedder",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
