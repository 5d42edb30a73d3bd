// The launch cache with real host processes: a command is recorded, the next run starts a host
// from it at once, and only a run that needs exactly that command gets it.
import assert from "node:assert/strict";
import { openLaunchCache } from "../../src/cli/_launch_cache.ts";
import {
  type HostCommand,
  SOCKET_TOKEN,
  type SpawnedHost,
} from "../../src/sandbox/_host_process.ts";

const RUN = { file: "pipeline.yaml", isolation: "step" };

// The host's environment: PATH only (the cache's own location is the caller's business).
function commandFor(env: Record<string, string>): HostCommand {
  return {
    denoPath: Deno.execPath(),
    importMap: JSON.stringify({ imports: {} }),
    flags: [
      "--allow-read",
      `--allow-write=${SOCKET_TOKEN}`,
      `--allow-net=unix:${SOCKET_TOKEN}`,
      "--allow-import=127.0.0.1:0",
    ],
    memoryMb: 256,
    config: {
      comlinkUrl: "file:///nonexistent/comlink.mjs",
      preparedIdleMs: 10_000,
    },
    env: { PATH: env.PATH! },
  };
}

async function withCache(
  fn: (cache: { dir: string; env: Record<string, string> }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "stepbox_launch_" });
  try {
    await fn({
      dir,
      env: { STEPBOX_CACHE_DIR: `${dir}/cache`, PATH: Deno.env.get("PATH")! },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function entryFile(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const item of Deno.readDir(`${dir}/cache`)) names.push(item.name);
  assert.equal(names.length, 1, `one entry expected, found ${names}`);
  return `${dir}/cache/${names[0]}`;
}

async function stop(host: SpawnedHost): Promise<void> {
  host.child.kill("SIGKILL");
  host.listener.close();
  await host.child.status;
  await Deno.remove(host.dir, { recursive: true });
}

Deno.test("openLaunchCache() records the first host command, then starts it early for the same run", async () => {
  await withCache(async ({ dir, env }) => {
    const first = openLaunchCache(RUN, dir, env)!;
    assert.equal(first.take(commandFor(env)), undefined, "nothing cached yet");
    await first.settle();
    const file = await entryFile(dir);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const entry = JSON.parse(await Deno.readTextFile(file));
    assert.deepEqual(entry.command.flags, commandFor(env).flags);
    assert.deepEqual(entry.envNames, ["PATH"]);
    assert.ok(
      !JSON.stringify(entry).includes(env.PATH!),
      "environment values are not stored",
    );

    const second = openLaunchCache(RUN, dir, env)!;
    const early = second.take(commandFor(env));
    assert.ok(early, "the host started from the cache is handed over");
    assert.equal(
      second.take(commandFor(env)),
      undefined,
      "only the first host start is offered the early host",
    );
    try {
      // A real host for this socket: it connects.
      (await early.connection).close();
    } finally {
      await stop(early);
      await second.settle();
    }
  });
});

Deno.test("openLaunchCache() kills the early host when the run needs another command, and records that one", async () => {
  await withCache(async ({ dir, env }) => {
    const first = openLaunchCache(RUN, dir, env)!;
    first.take(commandFor(env));
    await first.settle();

    // The file now grants less: the run works out a narrower host.
    const narrower = { ...commandFor(env), flags: ["--allow-read=/tmp"] };
    const second = openLaunchCache(RUN, dir, env)!;
    assert.equal(second.take(narrower), undefined);
    await second.settle();
    const entry = JSON.parse(await Deno.readTextFile(await entryFile(dir)));
    assert.deepEqual(entry.command.flags, ["--allow-read=/tmp"]);

    // Another run of the same file elsewhere has a key of its own.
    const elsewhere = openLaunchCache(RUN, "/", env)!;
    assert.equal(elsewhere.take(narrower), undefined);
    await elsewhere.settle();
  });
});

Deno.test("openLaunchCache() ignores a malformed entry and one that others may write", async () => {
  await withCache(async ({ dir, env }) => {
    const first = openLaunchCache(RUN, dir, env)!;
    first.take(commandFor(env));
    await first.settle();
    const file = await entryFile(dir);
    const good = await Deno.readTextFile(file);

    await Deno.chmod(file, 0o666);
    const writable = openLaunchCache(RUN, dir, env)!;
    assert.equal(writable.take(commandFor(env)), undefined);
    await writable.settle();

    const tampered = JSON.parse(good);
    tampered.command.flags.push("--preload=/tmp/evil.js");
    for (const text of ["{", "null", JSON.stringify(tampered)]) {
      await Deno.writeTextFile(file, text, { mode: 0o600 });
      await Deno.chmod(file, 0o600);
      const cache = openLaunchCache(RUN, dir, env)!;
      assert.equal(cache.take(commandFor(env)), undefined, text);
      await cache.settle();
      assert.equal(await Deno.readTextFile(file), good, "rewritten");
    }
  });
});

Deno.test("openLaunchCache() is off with STEPBOX_LAUNCH_CACHE=0 or without a place to keep it", () => {
  assert.equal(
    openLaunchCache(RUN, "/", { HOME: "/root", STEPBOX_LAUNCH_CACHE: "0" }),
    undefined,
  );
  assert.equal(openLaunchCache(RUN, "/", {}), undefined);
});
