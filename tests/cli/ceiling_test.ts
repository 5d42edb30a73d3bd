import assert from "node:assert/strict";
import { fileCeiling } from "../../src/cli/ceiling.ts";

Deno.test("fileCeiling() unions the steps' permissions and the built-ins' declarations", () => {
  const { allow, risky } = fileCeiling([
    { "prefect.deployments.steps.run_shell_script": { script: "echo hi" } },
    {
      "./a.ts#f": { permissions: { net: ["a.example.com"], read: ["/data"] } },
    },
    { "./b.ts#g": { permissions: { net: ["b.example.com"], read: false } } },
    null,
    {},
  ]);
  assert.equal(allow.run, true);
  assert.equal(allow.read, true);
  assert.deepEqual(allow.net, ["a.example.com", "b.example.com"]);
  assert.deepEqual(risky, []);
});

Deno.test("fileCeiling() flags run, ffi and all grants to non-built-in steps", () => {
  const { allow, risky } = fileCeiling([
    { "./a.ts#f": { permissions: { run: ["git"], ffi: true } } },
    { "./b.ts#g": { permissions: true } },
    { "stepbox.steps.git_clone": { permissions: { run: true } } },
  ]);
  assert.equal(allow.ffi, true);
  assert.deepEqual(risky, [
    { index: 0, reference: "./a.ts#f", grant: "run" },
    { index: 0, reference: "./a.ts#f", grant: "ffi" },
    { index: 1, reference: "./b.ts#g", grant: "all" },
  ]);
});

Deno.test("fileCeiling() grants nothing to a file that asks for nothing", () => {
  assert.deepEqual(fileCeiling([{ "./a.ts#f": { x: 1 } }]), {
    allow: {},
    risky: [],
  });
});
