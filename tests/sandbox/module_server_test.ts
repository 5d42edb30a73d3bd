import assert from "node:assert/strict";
import { maxSatisfying, startModuleServer } from "../_module_server.ts";

Deno.test("maxSatisfying() resolves npm-style ranges", () => {
  const versions = ["1.0.0", "1.2.0", "1.2.5", "2.0.0", "0.3.1"];
  assert.equal(maxSatisfying(versions, "^1.0.0"), "1.2.5");
  assert.equal(maxSatisfying(versions, "~1.2.0"), "1.2.5");
  assert.equal(maxSatisfying(versions, "1.2.0"), "1.2.0");
  assert.equal(maxSatisfying(versions, "1"), "1.2.5");
  assert.equal(maxSatisfying(versions, "1.x"), "1.2.5");
  assert.equal(maxSatisfying(versions, ">=1.2 <2"), "1.2.5");
  assert.equal(maxSatisfying(versions, "<1.0.0"), "0.3.1");
  assert.equal(maxSatisfying(versions, "^0.3.0"), "0.3.1");
  assert.equal(maxSatisfying(versions, "^3 || ~1.0"), "1.0.0");
  assert.equal(maxSatisfying(versions, "*"), "2.0.0");
  assert.equal(maxSatisfying(versions, "^3"), undefined);
});

Deno.test("startModuleServer() serves packages and paths with content types, and 404s", async () => {
  await using server = await startModuleServer({
    files: { "/broken@1.0.0/mod.js": "export function (" },
  });
  const get = async (path: string) => {
    const response = await fetch(`${server.origin}${path}`);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: await response.text(),
    };
  };
  const latest = await get("/shouty@2");
  assert.equal(latest.status, 200);
  assert.match(latest.body, /"2\.0\.0"/);
  const ranged = await get(`/shouty@${encodeURIComponent(">=1.1 <2")}`);
  assert.match(ranged.body, /"1\.2\.0"/);
  const file = await get("/greeter@1.0.0/extra.js");
  assert.equal(file.type, "application/javascript; charset=utf-8");
  assert.match(file.body, /extra/);
  assert.equal((await get("/broken@1.0.0/mod.js")).body, "export function (");
  assert.equal((await get("/shouty@9")).status, 404);
  assert.equal((await get("/greeter@1.0.0/nope.js")).status, 404);
  assert.equal((await get("/not-a-package")).status, 404);
  assert.ok(server.requests.includes("/shouty@2"));
  assert.match(server.host, /^127\.0\.0\.1:\d+$/);
});
