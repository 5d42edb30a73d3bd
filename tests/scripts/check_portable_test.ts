import assert from "node:assert/strict";
import { checkPortable, checkSource } from "../../scripts/check_portable.ts";

Deno.test("checkPortable() finds no runtime API in the portable files", () => {
  assert.deepEqual(checkPortable(), []);
});

Deno.test("checkPortable() lists every offender with file and line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/src/core`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/src/core/bad.ts`,
      [
        "// Portable: no runtime APIs.",
        "// Deno.env in a comment is fine",
        'import { readFile } from "node:fs";',
        "const home = Deno.env.get('HOME');",
        "const w = new Worker('x');",
        'const text = "a string mentioning Worker is flagged too";',
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/src/core/no_header.ts`,
      "export const x = 1;\n",
    );
    const offences = checkPortable(new URL(`file://${dir}/`), ["src/core/"]);
    assert.deepEqual(
      offences.map((o) => `${o.file}:${o.line}: ${o.what}`),
      [
        "src/core/bad.ts:3: imports a node: module",
        "src/core/bad.ts:4: uses the Deno namespace",
        "src/core/bad.ts:5: uses Worker",
        "src/core/bad.ts:6: uses Worker",
        'src/core/no_header.ts:1: does not open with "// Portable: no runtime APIs."',
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkSource() ignores block comments and keeps line numbers", () => {
  const source =
    "// Portable: no runtime APIs.\n/* Deno.exit()\n Worker */\nconst ok = 1;\nDeno.exit();\n";
  assert.deepEqual(checkSource("f.ts", source).map((o) => o.line), [5]);
});
