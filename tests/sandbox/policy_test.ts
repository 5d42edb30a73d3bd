import assert from "node:assert/strict";
import {
  hostPermissionFlags,
  importHosts,
  NO_IMPORT_HOST,
  toWorkerPermissions,
} from "../../src/sandbox/policy.ts";
import { PERMISSION_NAMES } from "../../src/types.ts";

Deno.test("toWorkerPermissions() sets every key, denying what is not granted", () => {
  const none = toWorkerPermissions({});
  assert.deepEqual(Object.keys(none).sort(), [...PERMISSION_NAMES].sort());
  assert.ok(Object.values(none).every((value) => value === false));
  assert.deepEqual(
    toWorkerPermissions({ read: ["/a"], write: false, run: true }),
    {
      read: ["/a"],
      write: false,
      net: false,
      env: false,
      run: true,
      sys: false,
      ffi: false,
      import: false,
    },
  );
});

Deno.test("toWorkerPermissions() copies lists instead of sharing them", () => {
  const list = ["/a"];
  const result = toWorkerPermissions({ read: list });
  (result.read as string[]).push("/b");
  assert.deepEqual(list, ["/a"]);
});

Deno.test("toWorkerPermissions() rejects malformed values with the kind and the fix", () => {
  for (const value of ["yes", 1, [1], { path: "/a" }, null]) {
    assert.throws(
      () => toWorkerPermissions({ read: value as never }),
      (error: Error) => {
        assert.equal(error.name, "PolicyError");
        assert.match(error.message, /"read"/);
        assert.match(error.message, /true, false or a list of strings/);
        return true;
      },
    );
  }
});

Deno.test("hostPermissionFlags() passes the ceiling and always limits imports", () => {
  assert.deepEqual(hostPermissionFlags({}), [
    `--allow-import=${NO_IMPORT_HOST}`,
  ]);
  assert.deepEqual(
    hostPermissionFlags(
      { read: ["/data"], net: true, run: false, import: ["esm.sh"] },
      {
        read: ["/app/src", "/data"],
        write: ["/tmp/s"],
        net: ["unix:/tmp/s"],
        import: ["127.0.0.1:8000"],
      },
    ),
    [
      "--allow-read=/data,/app/src",
      "--allow-write=/tmp/s",
      "--allow-net",
      "--allow-import=esm.sh,127.0.0.1:8000",
    ],
  );
  assert.deepEqual(hostPermissionFlags({ import: true }), ["--allow-import"]);
});

Deno.test("hostPermissionFlags() rejects a path with a comma", () => {
  assert.throws(
    () => hostPermissionFlags({ read: ["/a,b"] }),
    (error: Error) =>
      error.name === "PolicyError" && /comma/.test(error.message),
  );
});

Deno.test("importHosts() lists host:port of remote specifiers only", () => {
  assert.deepEqual(
    importHosts([
      "https://esm.sh/a@1",
      "https://esm.sh/b@2",
      "http://localhost/x.js",
      "npm:yaml@2",
      "file:///a.ts",
      "data:text/javascript,",
    ]),
    ["esm.sh:443", "localhost:80"],
  );
});

Deno.test("toWorkerPermissions() rejects an unknown kind, naming the kinds", () => {
  assert.throws(
    () => toWorkerPermissions({ network: true } as never),
    (error: Error) => {
      assert.equal(error.name, "PolicyError");
      assert.match(error.message, /"network": it is not a permission kind/);
      assert.match(error.message, /"net"/);
      return true;
    },
  );
});
