import assert from "node:assert/strict";
import {
  createSandboxExecutor,
  type SandboxExecutor,
  type SandboxExecutorOptions,
} from "../../src/sandbox/host_client.ts";
import { createWorkerPool } from "../../src/sandbox/pool.ts";
import {
  callOptions,
  countWorkers,
  fixtureTarget,
  runExecutorSuite,
} from "./executor_suite.ts";

runExecutorSuite({
  name: 'createSandboxExecutor({ isolation: "pool" })',
  createExecutor: () => createSandboxExecutor({ isolation: "pool" }),
  skip: {},
  // A healthy pool keeps warm workers; only the termination cases count, and those reset.
  countWorkers,
});

async function withPool(
  fn: (executor: SandboxExecutor) => Promise<void>,
  options: Partial<SandboxExecutorOptions> = {},
): Promise<void> {
  const executor = createSandboxExecutor({ isolation: "pool", ...options });
  try {
    await fn(executor);
  } finally {
    await executor.close();
  }
}

Deno.test("createSandboxExecutor() pool: reuses a warm worker per module and permissions", async () => {
  await withPool(async (executor) => {
    const count = fixtureTarget("sets_global.ts", "count");
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await executor.call(count, {}, callOptions()));
    }
    assert.deepEqual(results, [{ count: 1 }, { count: 2 }, { count: 3 }]);
    // Other permissions: another worker, fresh module state.
    assert.deepEqual(
      await executor.call(
        count,
        {},
        callOptions({
          permissions: { sys: ["hostname"] },
          policy: { allow: { sys: ["hostname"] }, env: {} },
        }),
      ),
      { count: 1 },
    );
    const stats = await executor.stats();
    const started = stats.hosts.reduce(
      (sum, host) => sum + host.startedWorkers,
      0,
    );
    assert.equal(started, 2);
  });
});

Deno.test("createSandboxExecutor() pool: resets a worker after a failure", async () => {
  await withPool(async (executor) => {
    const count = fixtureTarget("sets_global.ts", "count");
    const missing = fixtureTarget("sets_global.ts", "doesNotExist");
    assert.deepEqual(await executor.call(count, {}, callOptions()), {
      count: 1,
    });
    assert.deepEqual(await executor.call(count, {}, callOptions()), {
      count: 2,
    });
    await assert.rejects(executor.call(missing, {}, callOptions()));
    assert.deepEqual(await executor.call(count, {}, callOptions()), {
      count: 1,
    });
  });
});

Deno.test("createSandboxExecutor() pool: evicts idle workers", async () => {
  await withPool(async (executor) => {
    await executor.call(
      fixtureTarget("sets_global.ts", "count"),
      {},
      callOptions(),
    );
    assert.equal((await executor.stats()).hosts[0]?.liveWorkers, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await executor.stats()).hosts[0]?.liveWorkers, 0);
  }, { poolIdleMs: 100 });
});

Deno.test("createSandboxExecutor() pool: keeps at most poolSize warm workers", async () => {
  await withPool(async (executor) => {
    for (const name of ["count", "readGlobal", "setGlobal"]) {
      await executor.call(
        fixtureTarget("sets_global.ts", name),
        {},
        callOptions(),
      );
      await executor.call(
        fixtureTarget("returns_object.ts", "returnsNothing"),
        {},
        callOptions({
          permissions: { env: [name] },
          policy: {
            allow: { env: ["count", "readGlobal", "setGlobal"] },
            env: {},
          },
        }),
      );
    }
    const stats = (await executor.stats()).hosts;
    assert.ok(
      stats.every((host) => host.liveWorkers <= 2),
      JSON.stringify(stats),
    );
  }, { poolSize: 2 });
});

Deno.test("createSandboxExecutor() pool: prepare() warms a worker before the call", async () => {
  await withPool(async (executor) => {
    const target = fixtureTarget("sets_global.ts", "count");
    executor.prepare!(target, callOptions());
    let started = 0;
    for (let i = 0; i < 100 && started === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      started = (await executor.stats()).hosts[0]?.startedWorkers ?? 0;
    }
    assert.equal(started, 1);
    assert.deepEqual(await executor.call(target, {}, callOptions()), {
      count: 1,
    });
    assert.equal((await executor.stats()).hosts[0]?.startedWorkers, 1);
  });
});

Deno.test("createWorkerPool() spawns, reuses, evicts the least recently used and ends on close", () => {
  const ended: string[] = [];
  let serial = 0;
  const pool = createWorkerPool<string>({
    maxWorkers: 2,
    idleMs: 60_000,
    spawn: (key) => `${key}#${++serial}`,
    terminate: (worker) => void ended.push(worker),
  });
  pool.acquire("a")!.release();
  pool.acquire("b")!.release();
  assert.equal(pool.size, 2);
  // Full: "a", the least recently used idle worker, is ended before "c" is spawned.
  const c = pool.acquire("c")!;
  assert.deepEqual(ended, ["a#1"]);
  assert.equal(c.worker, "c#3");
  const c2 = pool.acquire("c")!; // "c" is busy: "b" is evicted for a second "c"
  assert.deepEqual(ended, ["a#1", "b#2"]);
  // Every worker busy and no room: no worker, and none spawned; the caller runs it elsewhere.
  assert.equal(pool.acquire("c"), undefined);
  assert.equal(serial, 4);
  c.release({ reset: true });
  assert.deepEqual(ended, ["a#1", "b#2", "c#3"]);
  pool.close();
  assert.deepEqual(ended, ["a#1", "b#2", "c#3", "c#4"]);
  c2.release();
  assert.equal(ended.length, 4);
  assert.throws(() => pool.acquire("a"), /closed/);
});

Deno.test("createWorkerPool() gives no worker when spawn gives none", () => {
  const pool = createWorkerPool<number>({
    spawn: () => undefined,
    terminate() {},
  });
  assert.equal(pool.acquire("a"), undefined);
  pool.warm("a");
  assert.equal(pool.size, 0);
  pool.close();
});

Deno.test("createWorkerPool() ends a worker after its idle time", async () => {
  const ended: number[] = [];
  const pool = createWorkerPool<number>({
    idleMs: 20,
    spawn: () => 1,
    terminate: (worker) => void ended.push(worker),
  });
  pool.acquire("a")!.release();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(ended, [1]);
  assert.equal(pool.size, 0);
  pool.close();
});

Deno.test("createWorkerPool() sweeps idle workers with one timer, armed only while one is idle", () => {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const ended: number[] = [];
  let time = 0;
  let next = 0;
  const pool = createWorkerPool<number>({
    idleMs: 50,
    now: () => time,
    spawn: () => ++next,
    terminate: (worker) => void ended.push(worker),
    setTimer(fn, ms) {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
  });
  const busy = pool.acquire("a")!;
  assert.equal(timers.length, 0);
  busy.release();
  assert.equal(timers[0]?.ms, 50);
  // Taken and given back again: no timer of its own, the sweep already waits.
  time = 30;
  pool.acquire("a")!.release();
  pool.acquire("b")!.release();
  assert.equal(timers.length, 1);
  // The sweep finds both idle for 20 ms of 50, and waits until the first is due.
  time = 50;
  timers[0]!.fn();
  assert.deepEqual(ended, []);
  assert.equal(timers[1]?.ms, 30);
  time = 80;
  timers[1]!.fn();
  assert.deepEqual(ended.sort(), [1, 2]);
  assert.equal(pool.size, 0);
  assert.equal(timers.length, 2);
  pool.acquire("c")!.release();
  pool.close();
  assert.equal(timers[2]?.cancelled, true);
});

Deno.test("createWorkerPool() rejects a bad size", () => {
  assert.throws(
    () => createWorkerPool({ maxWorkers: 0, spawn: () => 1, terminate() {} }),
    (error: Error) =>
      error instanceof RangeError && /maxWorkers/.test(error.message),
  );
});
