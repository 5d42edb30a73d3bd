import assert from "node:assert/strict";
import { ImportMapError } from "../../src/errors.ts";
import {
  buildImportMap,
  BUILTIN_IMPORTS,
  parseRequirement,
  pipToSemver,
} from "../../src/core/import_map.ts";

Deno.test("parseRequirement() maps name@range to the CDN and keeps npm: and URLs", () => {
  assert.deepEqual(parseRequirement("slugify@1.6.6"), {
    name: "slugify",
    target: "https://esm.sh/slugify@1.6.6",
  });
  assert.deepEqual(
    parseRequirement("@scope/pkg@^2", { cdn: "http://127.0.0.1:9/" }),
    {
      name: "@scope/pkg",
      target: "http://127.0.0.1:9/@scope/pkg@^2",
    },
  );
  assert.deepEqual(parseRequirement("lodash"), {
    name: "lodash",
    target: "https://esm.sh/lodash",
  });
  assert.deepEqual(parseRequirement("npm:slugify@1.6.6"), {
    name: "slugify",
    target: "npm:slugify@1.6.6",
  });
  assert.deepEqual(parseRequirement("https://esm.sh/@scope/pkg@1.0.0/sub.js"), {
    name: "@scope/pkg",
    target: "https://esm.sh/@scope/pkg@1.0.0/sub.js",
  });
  assert.deepEqual(parseRequirement("http://127.0.0.1:8000/left-pad@1"), {
    name: "left-pad",
    target: "http://127.0.0.1:8000/left-pad@1",
  });
});

Deno.test("parseRequirement() translates pip-style specifiers to semver ranges", () => {
  assert.deepEqual(parseRequirement("prefect-docker>=0.3.0"), {
    name: "prefect-docker",
    target: "https://esm.sh/prefect-docker@>=0.3.0",
  });
  assert.equal(
    parseRequirement("p >= 1.2, < 2").target,
    "https://esm.sh/p@>=1.2.0 <2.0.0",
  );
});

Deno.test("pipToSemver() handles ==, !=, ~=, >, <, wildcards and commas", () => {
  assert.equal(pipToSemver("==1.2"), "1.2.0");
  assert.equal(pipToSemver("==1.2.*"), ">=1.2.0 <1.3.0");
  assert.equal(pipToSemver("===2"), "2.0.0");
  assert.equal(pipToSemver("~=1.4.2"), ">=1.4.2 <1.5.0");
  assert.equal(pipToSemver("~=1.4"), ">=1.4.0 <2.0.0");
  assert.equal(pipToSemver(">1,<=3.1"), ">1.0.0 <=3.1.0");
  assert.equal(
    pipToSemver(">=1,<2,!=1.3"),
    ">=1.0.0 <2.0.0 <1.3.0 || >=1.0.0 <2.0.0 >1.3.0",
  );
  assert.equal(pipToSemver("!=1.3.*"), "<1.3.0 || >=1.4.0");
});

Deno.test("parseRequirement() rejects malformed entries with a reason", () => {
  for (
    const [entry, pattern] of [
      ["", /empty/],
      ["p>=1.0rc1", /not a plain release number/],
      ["p~=1", /at least two version parts/],
      ["p>=1.*", /wildcard/],
      ["p>=1.2.3.4", /more than three parts/],
      ["Bad Name@1", /not a valid package name/],
      ["npm:", /not a valid npm: specifier/],
      ["https://example.com/", /cannot tell the package name/],
      ["p=1", /not a valid package name/],
    ] as [string, RegExp][]
  ) {
    assert.throws(() => parseRequirement(entry), pattern, entry);
  }
});

Deno.test("buildImportMap() merges built-ins, the caller's map and every requires", () => {
  const map = buildImportMap(
    [
      { index: 0, reference: "a#f", requires: ["slugify@1.6.6"] },
      {
        index: 1,
        reference: "b#g",
        requires: ["slugify@1.6.6", "npm:left-pad@1"],
      },
    ],
    {
      importMap: { local: "./lib/local.ts" },
      baseUrl: "file:///srv/project/",
      cdn: "http://127.0.0.1:1",
    },
  );
  assert.deepEqual(map, {
    ...BUILTIN_IMPORTS,
    local: "file:///srv/project/lib/local.ts",
    slugify: "http://127.0.0.1:1/slugify@1.6.6",
    "slugify/": "http://127.0.0.1:1/slugify@1.6.6/",
    "left-pad": "npm:left-pad@1",
    "left-pad/": "npm:left-pad@1/",
  });
});

Deno.test("buildImportMap() names both steps and both targets on a conflict", () => {
  assert.throws(
    () =>
      buildImportMap([
        { index: 0, reference: "a#f", requires: ["slugify@1.6.6"] },
        { index: 3, reference: "b#g", requires: ["npm:slugify@1.6.5"] },
      ]),
    (error: Error) =>
      error instanceof ImportMapError &&
      error.message.includes(
        'step 0 "a#f" maps "slugify" to "https://esm.sh/slugify@1.6.6" but step 3 "b#g" maps it to "npm:slugify@1.6.5"',
      ),
  );
  assert.throws(
    () =>
      buildImportMap(
        [{ index: 2, reference: "b#g", requires: ["slugify@2"] }],
        {
          importMap: { slugify: "npm:slugify@1" },
        },
      ),
    /the run's import map maps "slugify" to "npm:slugify@1" but step 2 "b#g" maps it to/,
  );
});

Deno.test("buildImportMap() names the step of a malformed requires", () => {
  assert.throws(
    () =>
      buildImportMap([{ index: 4, reference: "x.y", requires: ["p>=1.0rc1"] }]),
    (error: Error) =>
      error instanceof ImportMapError &&
      error.message.startsWith(
        'Cannot use requires "p>=1.0rc1" of step 4 "x.y": ',
      ) &&
      error.message.includes('write "name@range"'),
  );
});

Deno.test("buildImportMap() refuses a relative target without a base", () => {
  assert.throws(
    () => buildImportMap([], { importMap: { x: "./x.ts" } }),
    /no baseUrl to resolve it against/,
  );
});

Deno.test("buildImportMap() does not mutate the caller's map", () => {
  const importMap = { x: "npm:x@1" };
  buildImportMap([{ index: 0, reference: "a#f", requires: ["y@1"] }], {
    importMap,
  });
  assert.deepEqual(importMap, { x: "npm:x@1" });
});
