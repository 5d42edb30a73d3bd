import assert from "node:assert/strict";
import {
  createSandboxExecutor,
  type SandboxExecutor,
} from "../../src/sandbox/host_client.ts";
import type { Permissions } from "../../src/types.ts";
import { startModuleServer } from "../_module_server.ts";
import {
  BUILTIN_SHELL,
  callOptions,
  countWorkers,
  fixtureTarget,
  runExecutorSuite,
  shellOptions,
} from "./executor_suite.ts";
import { assertProcessGone, waitForPid } from "../_processes.ts";

runExecutorSuite({
  name: 'createSandboxExecutor({ isolation: "step" })',
  createExecutor: () => createSandboxExecutor({ isolation: "step" }),
  countWorkers,
});

const ESSENTIALS = [
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "TMPDIR",
  "LANG",
];

function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function withExecutor(
  fn: (executor: SandboxExecutor) => Promise<void>,
  options: Partial<Parameters<typeof createSandboxExecutor>[0]> = {},
): Promise<void> {
  const executor = createSandboxExecutor({ isolation: "step", ...options });
  try {
    await fn(executor);
  } finally {
    await executor.close();
  }
}

/** Calls `exportName` of reports_permissions.ts denied, then granted (ceiling = grant). */
async function deniedThenGranted(
  executor: SandboxExecutor,
  exportName: string,
  inputs: Record<string, unknown>,
  grant: Permissions,
  kind: string,
  extra: Partial<ReturnType<typeof callOptions>> = {},
): Promise<unknown> {
  const target = fixtureTarget("reports_permissions.ts", exportName);
  await assert.rejects(
    executor.call(
      target,
      inputs,
      callOptions({
        ...extra,
        policy: { allow: grant, env: extra.policy?.env ?? {} },
      }),
    ),
    (error: Error & { permission?: string }) => {
      assert.equal(error.name, "StepPermissionError", String(error));
      assert.equal(error.permission, kind);
      assert.match(error.message, new RegExp(`permissions: \\{ ${kind}: `));
      return true;
    },
  );
  return await executor.call(
    target,
    inputs,
    callOptions({
      ...extra,
      permissions: grant,
      policy: { allow: grant, env: extra.policy?.env ?? {} },
    }),
  );
}

Deno.test("createSandboxExecutor() step: read is denied by default and granted by permissions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/data.txt`;
    await Deno.writeTextFile(path, "secret data");
    await withExecutor(async (executor) => {
      const output = await deniedThenGranted(executor, "readFile", { path }, {
        read: [path],
      }, "read");
      assert.deepEqual(output, { text: "secret data" });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createSandboxExecutor() step: write is denied by default and granted by permissions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/out.txt`;
    await withExecutor(async (executor) => {
      const output = await deniedThenGranted(
        executor,
        "writeFile",
        { path, text: "hello" },
        { write: [dir] },
        "write",
      );
      assert.deepEqual(output, { written: 5 });
      assert.equal(await Deno.readTextFile(path), "hello");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createSandboxExecutor() step: net is denied by default and granted by permissions", async () => {
  await using server = await startModuleServer();
  await withExecutor(async (executor) => {
    const output = await deniedThenGranted(
      executor,
      "fetchUrl",
      { url: `${server.origin}/shouty@1.0.0` },
      { net: [server.host] },
      "net",
    ) as { status: number; body: string };
    assert.equal(output.status, 200);
    assert.match(output.body, /version = "1\.0\.0"/);
  });
});

Deno.test("createSandboxExecutor() step: env is denied by default and granted by permissions", async () => {
  await withExecutor(async (executor) => {
    const output = await deniedThenGranted(
      executor,
      "getEnv",
      { name: "STEPBOX_GREETING" },
      { env: ["STEPBOX_GREETING"] },
      "env",
      { policy: { allow: {}, env: { STEPBOX_GREETING: "hi" } } },
    );
    assert.deepEqual(output, { value: "hi" });
  });
});

Deno.test("createSandboxExecutor() step: run is denied by default and granted by permissions", async () => {
  await withExecutor(async (executor) => {
    const output = await deniedThenGranted(
      executor,
      "runCommand",
      { command: Deno.execPath(), args: ["eval", "console.log(6 * 7)"] },
      { run: [Deno.execPath()] },
      "run",
    ) as { code: number; stdout: string };
    assert.equal(output.code, 0);
    assert.equal(output.stdout.trim(), "42");
  });
});

Deno.test("createSandboxExecutor() step: sys is denied by default and granted by permissions", async () => {
  await withExecutor(async (executor) => {
    const output = await deniedThenGranted(
      executor,
      "sysHostname",
      {},
      { sys: ["hostname"] },
      "sys",
    );
    assert.deepEqual(output, { hostname: Deno.hostname() });
  });
});

const LIBC = [
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib64/libc.so.6",
  "/usr/lib/libc.so.6",
]
  .find((path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  });

Deno.test({
  name:
    "createSandboxExecutor() step: ffi is denied by default and granted by permissions",
  ignore: LIBC === undefined,
  async fn() {
    await withExecutor(async (executor) => {
      const output = await deniedThenGranted(
        executor,
        "openLibrary",
        { path: LIBC },
        { ffi: [LIBC!] },
        "ffi",
      );
      assert.deepEqual(output, { opened: true });
    });
  },
});

Deno.test("createSandboxExecutor() step: a run-time import needs import of its host", async () => {
  await using server = await startModuleServer();
  await withExecutor(async (executor) => {
    const output = await deniedThenGranted(
      executor,
      "importUrl",
      { url: `${server.origin}/shouty@1.0.0`, exportName: "version" },
      { import: [server.host] },
      "import",
    );
    assert.deepEqual(output, { value: "1.0.0" });
  });
});

Deno.test("createSandboxExecutor() step: a worker's permissions are exactly the grant", async () => {
  await withExecutor(async (executor) => {
    const target = fixtureTarget("reports_permissions.ts", "reportPermissions");
    assert.deepEqual(await executor.call(target, {}, callOptions()), {
      read: "prompt",
      write: "prompt",
      net: "prompt",
      env: "prompt",
      run: "prompt",
      sys: "prompt",
      ffi: "prompt",
      import: "prompt",
    });
    const granted = await executor.call(
      target,
      {},
      callOptions({
        permissions: { env: true, sys: true },
        policy: { allow: { env: true, sys: true }, env: {} },
      }),
    ) as Record<string, string>;
    assert.equal(granted.env, "granted");
    assert.equal(granted.sys, "granted");
    assert.equal(granted.read, "prompt");
  });
});

Deno.test("createSandboxExecutor() step: a grant beyond the host's ceiling fails before running", async () => {
  await withExecutor(async (executor) => {
    await assert.rejects(
      executor.call(
        fixtureTarget("reports_permissions.ts", "getEnv"),
        { name: "HOME" },
        callOptions({ permissions: { env: true } }),
      ),
      (error: Error) => {
        assert.equal(error.name, "PolicyError");
        assert.match(error.message, /ceiling/);
        return true;
      },
    );
  });
});

Deno.test("createSandboxExecutor() step: an import grant beyond the ceiling fails before running", async () => {
  await withExecutor(async (executor) => {
    await assert.rejects(
      executor.call(
        fixtureTarget("reports_permissions.ts", "importUrl"),
        { url: "http://127.0.0.1:9/x.js" },
        callOptions({ permissions: { import: ["127.0.0.1:9"] } }),
      ),
      (error: Error) => {
        assert.equal(error.name, "PolicyError");
        assert.match(error.message, /beyond the run's ceiling import/);
        return true;
      },
    );
    assert.deepEqual((await executor.stats()).hosts, []);
  });
});

Deno.test("createSandboxExecutor() step: malformed permissions fail before anything starts", async () => {
  await withExecutor(async (executor) => {
    for (
      const permissions of [{ network: true }, { read: "yes" }, { env: [1] }]
    ) {
      await assert.rejects(
        executor.call(
          fixtureTarget("returns_object.ts", "returnsNothing"),
          {},
          callOptions({ permissions: permissions as never }),
        ),
        (error: Error) => error.name === "PolicyError",
      );
    }
    assert.deepEqual((await executor.stats()).hosts, []);
  });
});

Deno.test("createSandboxExecutor() step: a global set by one step is not visible to the next", async () => {
  await withExecutor(async (executor) => {
    await executor.call(
      fixtureTarget("sets_global.ts", "setGlobal"),
      { value: "leak" },
      callOptions(),
    );
    assert.deepEqual(
      await executor.call(
        fixtureTarget("sets_global.ts", "readGlobal"),
        {},
        callOptions(),
      ),
      { value: null },
    );
    const counts = [];
    for (let i = 0; i < 3; i++) {
      counts.push(
        await executor.call(
          fixtureTarget("sets_global.ts", "count"),
          {},
          callOptions(),
        ),
      );
    }
    assert.deepEqual(counts, [{ count: 1 }, { count: 1 }, { count: 1 }]);
  });
});

Deno.test("createSandboxExecutor() step: a step with env sees only the policy's environment", async () => {
  await withExecutor(async (executor) => {
    const output = await executor.call(
      fixtureTarget("reads_env.ts", "readsEnv"),
      {},
      callOptions({
        permissions: { env: true },
        policy: { allow: { env: true }, env: { DEPLOY_TARGET: "staging" } },
      }),
    ) as { env: Record<string, string> };
    assert.equal(output.env.DEPLOY_TARGET, "staging");
    for (const name of Object.keys(output.env)) {
      assert.ok(
        name === "DEPLOY_TARGET" || ESSENTIALS.includes(name),
        `unexpected variable ${name}`,
      );
    }
  });
});

Deno.test("createSandboxExecutor() step: a parent's secret variable never reaches a step", async () => {
  // The variable is set on a child process, never on this one (no Deno.env.set in tests).
  const probe = new URL("./_env_probe.ts", import.meta.url);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
      probe.href,
    ],
    env: { PREFECT_API_KEY: "pnu_secret_value", STEPBOX_PASSED: "yes" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const seen = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<
    string,
    string
  >;
  assert.equal(seen.PREFECT_API_KEY, undefined);
  assert.equal(seen.STEPBOX_PASSED, "yes");
  assert.ok(!JSON.stringify(seen).includes("pnu_secret_value"));
});

Deno.test("createSandboxExecutor() step: a memory bomb fails with out of memory and the next call works", async () => {
  await withExecutor(async (executor) => {
    const options = callOptions({
      policy: { allow: {}, env: {}, memoryMb: 64 },
    });
    await executor.call(
      fixtureTarget("returns_object.ts", "returnsNothing"),
      {},
      options,
    );
    const before = (await executor.stats()).hosts[0]!.pid;
    await assert.rejects(
      executor.call(fixtureTarget("memory_bomb.ts", "bomb"), {}, options),
      (error: Error) => {
        assert.equal(error.name, "SandboxError");
        assert.match(error.message, /ran out of memory/);
        assert.match(error.message, /64 MiB/);
        return true;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!isAlive(before), "the host that ran out of memory is gone");
    const output = await executor.call(
      fixtureTarget("returns_object.ts", "returnsObject"),
      { name: "survivor" },
      options,
    );
    assert.equal((output as { greeting: string }).greeting, "hello survivor");
    const after = (await executor.stats()).hosts[0]!.pid;
    assert.notEqual(after, before);
  });
});

Deno.test("createSandboxExecutor() step: a host killed mid-call rejects at once and is replaced", async () => {
  await withExecutor(async (executor) => {
    const call = executor.call(
      fixtureTarget("hangs.ts", "hangAsync"),
      {},
      callOptions(),
    );
    let pid: number | undefined;
    while (pid === undefined) {
      const stats = await executor.stats();
      if (stats.hosts[0]?.pendingCalls === 1) pid = stats.hosts[0].pid;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const started = performance.now();
    Deno.kill(pid, "SIGKILL");
    await assert.rejects(call, (error: Error) => {
      assert.equal(error.name, "SandboxError");
      assert.match(error.message, /exited unexpectedly/);
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    const output = await executor.call(
      fixtureTarget("returns_object.ts", "returnsObject"),
      {},
      callOptions(),
    );
    assert.equal((output as { greeting: string }).greeting, "hello world");
  });
});

Deno.test("createSandboxExecutor() step: a host killed mid-step leaves no command of it running", async () => {
  await withExecutor(async (executor) => {
    const dir = await Deno.makeTempDir({ prefix: "stepbox-commands-" });
    try {
      const call = executor.call(
        BUILTIN_SHELL,
        { script: `sh -c "sleep 30 & echo $! > ${dir}/pid; wait"` },
        shellOptions({}),
      );
      call.catch(() => {});
      const pid = await waitForPid(`${dir}/pid`);
      // The host cannot end anything: the parent ends the commands it was told of. (One the
      // host starts and dies before telling of is left running: see the README.)
      let [host] = (await executor.stats()).hosts;
      for (let i = 0; i < 200 && host?.runningCommands !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        [host] = (await executor.stats()).hosts;
      }
      assert.equal(host?.runningCommands, 1);
      Deno.kill(host!.pid, "SIGKILL");
      await assert.rejects(call, /exited unexpectedly/);
      await assertProcessGone(pid, "after its host was killed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("createSandboxExecutor() step: a module with a syntax error fails naming the specifier", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/broken.ts`;
    await Deno.writeTextFile(path, "export function broken( {\n");
    const specifier = new URL(`file://${path}`).href;
    await withExecutor(async (executor) => {
      await assert.rejects(
        executor.call(
          {
            reference: "./broken.ts#broken",
            specifier,
            exportName: "broken",
            builtin: false,
          },
          {},
          callOptions(),
        ),
        (error: Error & { moduleUrl?: string }) => {
          assert.equal(error.name, "SandboxError");
          assert.equal(error.moduleUrl, specifier);
          assert.ok(
            error.message.includes(`Cannot load "${specifier}"`),
            error.message,
          );
          return true;
        },
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createSandboxExecutor() step: a module the server does not have fails naming the specifier", async () => {
  await using server = await startModuleServer();
  const specifier = `${server.origin}/missing@1.0.0`;
  await withExecutor(async (executor) => {
    await assert.rejects(
      executor.call(
        {
          reference: `${specifier}#run`,
          specifier,
          exportName: "run",
          builtin: false,
        },
        {},
        callOptions(),
      ),
      (error: Error) => {
        assert.equal(error.name, "SandboxError");
        assert.ok(
          error.message.includes(`Cannot load "${specifier}"`),
          error.message,
        );
        assert.match(error.message, /404|Not Found|not found/i);
        return true;
      },
    );
  });
});

Deno.test("createSandboxExecutor() step: a URL module runs with import limited to its host", async () => {
  await using server = await startModuleServer();
  const specifier = `${server.origin}/greeter@1.0.0`;
  await withExecutor(async (executor) => {
    const output = await executor.call(
      {
        reference: `${specifier}#greet`,
        specifier,
        exportName: "greet",
        builtin: false,
      },
      { name: "ada" },
      callOptions(),
    );
    assert.deepEqual(output, { greeting: "HELLO ADA!" });
    // Another host (the same server under another name) is not importable.
    const other = `http://localhost:${server.host.split(":")[1]}/shouty@2.0.0`;
    await assert.rejects(
      executor.call(
        {
          reference: `${specifier}#importFrom`,
          specifier,
          exportName: "importFrom",
          builtin: false,
        },
        { url: other },
        callOptions(),
      ),
      (error: Error & { permission?: string }) => {
        assert.equal(error.name, "StepPermissionError");
        assert.equal(error.permission, "import");
        return true;
      },
    );
    assert.ok(!server.requests.includes("/shouty@2.0.0"));
  });
});

Deno.test("createSandboxExecutor() step: a bare import in a local step resolves through the run's import map", async () => {
  await using server = await startModuleServer();
  const dir = await Deno.makeTempDir();
  try {
    // Written at test time: a bare "shouty" import would not type-check in the repository.
    await Deno.writeTextFile(
      `${dir}/uses_bare_import.ts`,
      'import { shout, version } from "shouty";\n' +
        "export function useBare(inputs: { text: string }) {\n" +
        "  return { text: shout(inputs.text), version };\n}\n",
    );
    const specifier = new URL(`file://${dir}/uses_bare_import.ts`).href;
    await withExecutor(async (executor) => {
      const output = await executor.call(
        {
          reference: "./uses_bare_import.ts#useBare",
          specifier,
          exportName: "useBare",
          builtin: false,
        },
        { text: "hi" },
        callOptions({
          importMap: { shouty: `${server.origin}/shouty@^1.0.0` },
        }),
      );
      assert.deepEqual(output, { text: "HI!", version: "1.2.0" });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createSandboxExecutor() step: prepare() starts the next worker ahead of its call", async () => {
  await withExecutor(async (executor) => {
    const target = fixtureTarget("returns_object.ts", "returnsObject");
    executor.prepare!(target, callOptions());
    let stats = await executor.stats();
    for (let i = 0; i < 100 && stats.hosts[0]?.startedWorkers !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      stats = await executor.stats();
    }
    assert.equal(stats.hosts[0]?.startedWorkers, 1);
    await executor.call(target, { name: "prepared" }, callOptions());
    stats = await executor.stats();
    assert.equal(stats.hosts[0]?.startedWorkers, 1);
    assert.equal(stats.hosts[0]?.liveWorkers, 0);
  });
});

Deno.test("createSandboxExecutor() step: a host is recycled after its worker budget", async () => {
  await withExecutor(async (executor) => {
    const pids = new Set<number>();
    for (let i = 0; i < 7; i++) {
      await executor.call(
        fixtureTarget("returns_object.ts", "returnsNothing"),
        {},
        callOptions(),
      );
      for (const host of (await executor.stats()).hosts) pids.add(host.pid);
    }
    assert.ok(pids.size >= 3, `hosts used: ${pids.size}`);
    const live = (await executor.stats()).hosts;
    assert.ok(live.length <= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const alive = [...pids].filter(isAlive);
    assert.ok(alive.length <= 1, `still running: ${alive.join(", ")}`);
  }, { maxWorkersPerHost: 3 });
});

Deno.test("createSandboxExecutor() close() stops every host", async () => {
  const executor = createSandboxExecutor({ isolation: "step" });
  await executor.call(
    fixtureTarget("returns_object.ts", "returnsNothing"),
    {},
    callOptions(),
  );
  const pid = (await executor.stats()).hosts[0]!.pid;
  assert.ok(isAlive(pid));
  await executor.close();
  assert.ok(!isAlive(pid));
  await assert.rejects(
    executor.call(
      fixtureTarget("returns_object.ts", "returnsNothing"),
      {},
      callOptions(),
    ),
    (error: Error) =>
      error.name === "SandboxError" && /closed/.test(error.message),
  );
});

Deno.test("createSandboxExecutor() rejects an unknown isolation", () => {
  assert.throws(
    () => createSandboxExecutor({ isolation: "inline" as "step" }),
    (error: Error) =>
      error instanceof TypeError && /"isolation"/.test(error.message),
  );
});

Deno.test("createSandboxExecutor() step: a missing module fails in one clean line and prints nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const specifier = new URL(`file://${dir}/nope.ts`).href;
    const chunks: string[] = [];
    await withExecutor(async (executor) => {
      await assert.rejects(
        executor.call(
          {
            reference: "./nope.ts#f",
            specifier,
            exportName: "f",
            builtin: false,
          },
          {},
          callOptions({ onOutput: (chunk) => void chunks.push(chunk.text) }),
        ),
        (error: Error) => {
          assert.equal(error.name, "SandboxError");
          assert.match(
            error.message,
            new RegExp(
              `^Cannot load "${specifier}" for step "\\./nope\\.ts#f": Module not found "${specifier}"; check that the module exists`,
            ),
          );
          assert.doesNotMatch(error.message, /\n|at data:|Uncaught/);
          return true;
        },
      );
    });
    assert.doesNotMatch(chunks.join(""), /Uncaught|Module not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createSandboxExecutor() step: a repeated step gets a fresh spare worker, a one-off step none", async () => {
  await withExecutor(async (executor) => {
    const target = fixtureTarget("returns_object.ts", "returnsObject");
    const live = async () => (await executor.stats()).hosts[0]?.liveWorkers;
    await executor.call(target, { name: "a" }, callOptions());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await live(), 0);
    await executor.call(target, { name: "b" }, callOptions());
    for (let i = 0; i < 100 && await live() !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await live(), 1);
    const output = await executor.call(target, { name: "c" }, callOptions());
    assert.equal((output as { greeting: string }).greeting, "hello c");
  });
});

Deno.test("createSandboxExecutor() step: a module that fails to load while its host starts fails its call", async () => {
  await withExecutor(async (executor) => {
    const target = fixtureTarget("no_such_module.ts", "run");
    // The host starts this worker before anything listens to it: its error must be kept.
    executor.prepare!(target, callOptions());
    const error = await executor.call(target, {}, callOptions()).then(
      () => assert.fail("expected a rejection"),
      (e) => e as Error,
    );
    assert.equal(error.name, "SandboxError");
    assert.match(error.message, /Cannot load ".*no_such_module\.ts"/);
    const output = await executor.call(
      fixtureTarget("returns_object.ts", "returnsObject"),
      { name: "after" },
      callOptions(),
    );
    assert.equal((output as { greeting: string }).greeting, "hello after");
  });
});

Deno.test("createSandboxExecutor() step: prepare() on a new host starts the worker with the host", async () => {
  await withExecutor(async (executor) => {
    const target = fixtureTarget("returns_object.ts", "returnsObject");
    executor.prepare!(target, callOptions());
    const output = await executor.call(
      target,
      { name: "early" },
      callOptions(),
    );
    assert.equal((output as { greeting: string }).greeting, "hello early");
    const stats = await executor.stats();
    assert.equal(stats.hosts.length, 1);
    assert.equal(stats.hosts[0]?.startedWorkers, 1);
  });
});
