import assert from "node:assert/strict";
import { npm_install } from "../../src/steps/npm_install.ts";
import { createContext, tempDir } from "./_helpers.ts";

const EMPTY_LOCK = JSON.stringify({
  name: "app",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: { "": { name: "app", version: "1.0.0" } },
});

Deno.test("npm_install() runs npm install without a lockfile and npm ci with one", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/app`);
  await Deno.writeTextFile(
    `${dir.path}/app/package.json`,
    '{"name":"app","version":"1.0.0"}',
  );
  // Offline: a project without dependencies needs no registry.
  const context = createContext(dir.path, {
    npm_config_update_notifier: "false",
    npm_config_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
  });
  await npm_install({ directory: "app", stream_output: false }, context);
  // `npm install` writes a lockfile; `npm ci` never does, and refuses to run without one.
  assert.equal(
    (await Deno.stat(`${dir.path}/app/package-lock.json`)).isFile,
    true,
  );
  await Deno.writeTextFile(`${dir.path}/app/package-lock.json`, EMPTY_LOCK);
  await npm_install({ directory: "app" }, context);
  assert.equal(
    await Deno.readTextFile(`${dir.path}/app/package-lock.json`),
    EMPTY_LOCK,
  );
  // A lockfile that disagrees with package.json makes `npm ci` (and only it) fail.
  await Deno.writeTextFile(
    `${dir.path}/app/package.json`,
    '{"name":"app","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}',
  );
  await assert.rejects(
    npm_install({ directory: "app", stream_output: false }, context),
    (error: Error & { exitCode: number }) => {
      assert.match(error.message, /^npm_install failed with error code \d+: /);
      assert.notEqual(error.exitCode, 0);
      return true;
    },
  );
});

Deno.test("npm_install() needs a package.json", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    npm_install({}, createContext(dir.path)),
    {
      message:
        `Cannot run npm_install: "${dir.path}" has no package.json; point "directory" at the project's root`,
    },
  );
  await assert.rejects(
    npm_install({ stream_output: 1 } as never, createContext(dir.path)),
    /input "stream_output" must be a boolean, found a number/,
  );
});
