import assert from "node:assert/strict";
import { ReferenceResolutionError } from "../../src/errors.ts";
import { buildImportMap } from "../../src/core/import_map.ts";
import { resolveStepReference } from "../../src/core/step_reference.ts";
import { BUILTIN_STEPS } from "../../src/steps/mod.ts";

function assertUnresolved(
  reference: string,
  options: Parameters<typeof resolveStepReference>[1],
  pattern: RegExp,
) {
  assert.throws(
    () => resolveStepReference(reference, options),
    (error: Error) => {
      assert.ok(error instanceof ReferenceResolutionError, String(error));
      assert.equal(error.reference, reference);
      assert.ok(
        error.message.startsWith(
          `Cannot resolve step reference "${reference}": `,
        ),
        error.message,
      );
      assert.match(error.message, pattern);
      return true;
    },
  );
}

Deno.test("resolveStepReference() maps Prefect's built-in names to the built-in modules", () => {
  for (
    const reference of [
      "prefect.deployments.steps.run_shell_script",
      "prefect.deployments.steps.utility.run_shell_script",
      "stepbox.steps.run_shell_script",
    ]
  ) {
    assert.deepEqual(resolveStepReference(reference), {
      reference,
      specifier: BUILTIN_STEPS.run_shell_script?.moduleUrl,
      exportName: "run_shell_script",
      builtin: true,
    });
  }
});

Deno.test("resolveStepReference() reaches built-ins through stepbox/steps/ too", () => {
  const importMap = buildImportMap([]);
  const target = resolveStepReference("stepbox/steps/git_clone.ts#git_clone", {
    importMap,
  });
  assert.equal(target.specifier, BUILTIN_STEPS.git_clone?.moduleUrl);
  assert.equal(target.builtin, true);
});

Deno.test("resolveStepReference() uses the longest dotted prefix in the import map", () => {
  const importMap = {
    my: "npm:my@1",
    "my.steps": "https://cdn.example/my-steps.js",
  };
  assert.equal(
    resolveStepReference("my.steps.build", { importMap }).specifier,
    "https://cdn.example/my-steps.js",
  );
  assert.equal(
    resolveStepReference("my.other.build", { importMap }).specifier,
    "npm:my@1",
  );
  assert.equal(
    resolveStepReference("my.other.build", { importMap }).exportName,
    "build",
  );
});

Deno.test("resolveStepReference() resolves relative specifiers against baseUrl only", () => {
  assert.equal(
    resolveStepReference("../lib/x.ts#run", {
      baseUrl: new URL("file:///srv/app/steps/"),
    }).specifier,
    "file:///srv/app/lib/x.ts",
  );
  assertUnresolved(
    "./x.ts#run",
    {},
    /needs a base to resolve against.*pass the baseUrl option/,
  );
});

Deno.test("resolveStepReference() keeps URLs and npm: specifiers", () => {
  for (
    const specifier of [
      "https://esm.sh/slugify@1.6.6",
      "npm:slugify@1.6.6",
      "file:///a/b.ts",
    ]
  ) {
    const target = resolveStepReference(`${specifier}#default`);
    assert.equal(target.specifier, specifier);
    assert.equal(target.exportName, "default");
    assert.equal(target.builtin, false);
  }
});

Deno.test("resolveStepReference() maps bare names and their sub paths like an import map", () => {
  const importMap = {
    slugify: "npm:slugify@1.6.6",
    "@s/p": "https://esm.sh/@s/p@2",
    "lib/": "https://cdn.example/lib/",
  };
  assert.equal(
    resolveStepReference("slugify#default", { importMap }).specifier,
    "npm:slugify@1.6.6",
  );
  assert.equal(
    resolveStepReference("slugify/extra.js#x", { importMap }).specifier,
    "npm:slugify@1.6.6/extra.js",
  );
  assert.equal(
    resolveStepReference("@s/p/deep/m.js#x", { importMap }).specifier,
    "https://esm.sh/@s/p@2/deep/m.js",
  );
  assert.equal(
    resolveStepReference("lib/a/b.js#x", { importMap }).specifier,
    "https://cdn.example/lib/a/b.js",
  );
});

Deno.test("resolveStepReference() explains what it tried and how to fix it", () => {
  assertUnresolved(
    "nonexistent.module",
    {},
    /no import map entry matches its module \(tried "nonexistent"\); map the module with requires/,
  );
  assertUnresolved("a.b.c", {}, /tried "a\.b", "a"/);
  assertUnresolved(
    "slugify#default",
    {},
    /"slugify" is not in the run's import map .*requires: "slugify@<version>"/,
  );
  assertUnresolved(
    "prefect.deployments.steps.nope",
    {},
    /"nope" is not a built-in step; the built-ins are run_shell_script/,
  );
  assertUnresolved("echo", {}, /write a dotted name/);
  assertUnresolved("a..b", {}, /write a dotted name/);
  assertUnresolved("#f", {}, /write "<module specifier>#<export name>"/);
  assertUnresolved(
    "./x.ts#",
    { baseUrl: "file:///a/" },
    /write "<module specifier>#<export name>"/,
  );
});

Deno.test("resolveStepReference() joins relative specifiers onto each run's own base", () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(
      resolveStepReference("./s.ts#f", { baseUrl: "file:///a/" }).specifier,
      "file:///a/s.ts",
    );
    assert.equal(
      resolveStepReference("./s.ts#f", { baseUrl: new URL("file:///b/") })
        .specifier,
      "file:///b/s.ts",
    );
    assert.equal(
      resolveStepReference("/abs/s.ts#f", { baseUrl: "https://x.example/p/" })
        .specifier,
      "https://x.example/abs/s.ts",
    );
  }
  assert.throws(
    () => resolveStepReference("./s.ts#f", { baseUrl: "not a url" }),
    TypeError,
  );
});
