import assert from "node:assert/strict";
import { SandboxError } from "../../src/errors.ts";
import { createSandboxExecutor } from "../../src/sandbox/host_client.ts";
import type { LaneOpening } from "../../src/sandbox/host_main.ts";
import { serializeError } from "../../src/sandbox/protocol.ts";
import { createStdioEndpoint } from "../../src/sandbox/stdio_endpoint.ts";
import type { WorkerSignal } from "../../src/sandbox/worker_entry.ts";
import { Lane, type LaneHost } from "../../src/sandbox/_lane.ts";
import { denoSystem } from "../../src/sandbox/_system_deno.ts";
import { callOptions, fixtureTarget } from "./executor_suite.ts";

const TARGET = {
  reference: "./step.ts#run",
  specifier: "file:///step.ts",
  permissions: {},
};

// The lane sockets a host may grant, as its own flags name them.
async function laneSocketsOf(pid: number): Promise<string[]> {
  const args = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
  const net = args.find((arg) => arg.startsWith("--allow-net="));
  return (net ?? "").slice("--allow-net=".length).split(",")
    .filter((item) => /\.lane\d+$/.test(item))
    .map((item) => item.slice("unix:".length));
}

Deno.test("createSandboxExecutor() pool: a step cannot reach any lane socket once its own is connected", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  const probe = fixtureTarget(
    "reports_permissions.ts",
    "reportPathPermissions",
  );
  await executor.call(probe, { paths: [] }, callOptions());
  const sockets = await laneSocketsOf((await executor.stats()).hosts[0]!.pid);
  assert.equal(sockets.length, 16);
  // Run on the lane opened above: its Worker was granted one of these until it connected.
  const states = await executor.call(probe, { paths: sockets }, callOptions());
  assert.deepEqual(Object.keys(states as object).sort(), [...sockets].sort());
  for (const [path, state] of Object.entries(states as object)) {
    assert.deepEqual(
      state,
      { read: "prompt", write: "prompt", net: "prompt" },
      path,
    );
  }
  const connect = fixtureTarget("reports_permissions.ts", "connectUnix");
  for (const path of sockets.slice(0, 2)) {
    assert.deepEqual(await executor.call(connect, { path }, callOptions()), {
      result: "NotCapable",
    });
  }
});

Deno.test("createSandboxExecutor() pool: a step granted a directory above its lane socket keeps that grant", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  const probe = fixtureTarget(
    "reports_permissions.ts",
    "reportPathPermissions",
  );
  const options = callOptions();
  await executor.call(probe, { paths: [] }, options);
  const [socket] = await laneSocketsOf((await executor.stats()).hosts[0]!.pid);
  // The directory that holds every host's private directory (the system's temp directory).
  const root = socket!.split("/").slice(0, -2).join("/");
  const granted = callOptions({
    permissions: { read: [root] },
    policy: { allow: { read: [root] }, env: {} },
  });
  const elsewhere = `${root}/stepbox-lane-test-elsewhere`;
  for (let call = 0; call < 2; call++) {
    const states = await executor.call(
      probe,
      { paths: [elsewhere] },
      granted,
    ) as Record<string, { read: string; write: string }>;
    assert.equal(states[elsewhere]?.read, "granted");
    assert.equal(states[elsewhere]?.write, "prompt");
  }
});

Deno.test("createSandboxExecutor() pool: a call beyond the busy lanes of a full pool runs in a fresh worker", async () => {
  await using executor = createSandboxExecutor({
    isolation: "pool",
    poolSize: 1,
  });
  const count = fixtureTarget("sets_global.ts", "count");
  const sleeps = fixtureTarget("hangs.ts", "sleeps");
  // The only lane is busy sleeping: the count runs in a fresh worker, twice.
  const sleeping = executor.call(sleeps, { ms: 300 }, callOptions());
  assert.deepEqual(await executor.call(count, {}, callOptions()), { count: 1 });
  assert.deepEqual(await executor.call(count, {}, callOptions()), { count: 1 });
  assert.deepEqual(await sleeping, { slept: 300 });
  // Now the count takes the lane over (the sleeping step's Worker is evicted) and keeps it.
  assert.deepEqual(await executor.call(count, {}, callOptions()), { count: 1 });
  assert.deepEqual(await executor.call(count, {}, callOptions()), { count: 2 });
});

/** Rows of about `bytes` of JSON: large enough to travel in pieces on a lane. */
function largeRows(bytes: number): { i: number; text: string }[] {
  return Array.from(
    { length: Math.ceil(bytes / 40) },
    (_, i) => ({ i, text: `row ${i}`.padEnd(20, "-") }),
  );
}

Deno.test("createSandboxExecutor() pool: large inputs go whole to a fresh worker when the pool is full", async () => {
  await using executor = createSandboxExecutor({
    isolation: "pool",
    poolSize: 1,
  });
  const echo = fixtureTarget("returns_object.ts", "echoPayload");
  const sleeps = fixtureTarget("hangs.ts", "sleeps");
  const sleeping = executor.call(sleeps, { ms: 300 }, callOptions());
  const payload = { rows: largeRows(1_000_000) };
  // The lane is busy: relayed through the host.
  const relayed = await executor.call(echo, { payload }, callOptions());
  assert.deepEqual((relayed as { payload: unknown }).payload, payload);
  await sleeping;
  // On the lane, in pieces both ways.
  for (let i = 0; i < 2; i++) {
    const echoed = await executor.call(echo, { payload }, callOptions());
    assert.deepEqual((echoed as { payload: unknown }).payload, payload);
  }
  assert.equal((await executor.stats()).hosts[0]!.pooledWorkers, 1);
});

Deno.test("createSandboxExecutor() pool: an output that fails while sent in pieces rejects with why, and the next call runs", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  await assert.rejects(
    executor.call(
      fixtureTarget("returns_object.ts", "returnsRowsReadOnce"),
      {},
      callOptions(),
    ),
    /row 4000 was read twice/,
  );
  const echo = fixtureTarget("returns_object.ts", "echoPayload");
  const payload = { rows: largeRows(500_000) };
  const echoed = await executor.call(echo, { payload }, callOptions());
  assert.deepEqual((echoed as { payload: unknown }).payload, payload);
});

Deno.test("createSandboxExecutor() pool: aborting while large inputs are sent in pieces rejects at once, and the next call runs", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  const echo = fixtureTarget("returns_object.ts", "echoPayload");
  await executor.call(echo, { payload: 1 }, callOptions());
  const controller = new AbortController();
  const reason = new Error("stop sending");
  const pending = executor.call(
    echo,
    { payload: { rows: largeRows(30_000_000) } },
    { ...callOptions(), signal: controller.signal },
  );
  setTimeout(() => controller.abort(reason), 5);
  await assert.rejects(pending, (error) => error === reason);
  const payload = { rows: largeRows(500_000) };
  const echoed = await executor.call(echo, { payload }, callOptions());
  assert.deepEqual((echoed as { payload: unknown }).payload, payload);
});

/** A host that opens lanes by script, over real sockets. */
function scriptedHost(
  openLane: (lane: LaneOpening) => Promise<
    { ok: true } | { ok: false; error: ReturnType<typeof serializeError> }
  >,
): LaneHost & { closed: string[] } {
  const closed: string[] = [];
  return {
    closed,
    api: {
      openLane: (_target: unknown, lane: LaneOpening) => openLane(lane),
      closeLane: (socket: string) => {
        closed.push(socket);
        return Promise.resolve();
      },
    } as unknown as LaneHost["api"],
    died: new Promise(() => {}),
    system: denoSystem,
  };
}

async function withSocket(fn: (socket: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "stepbox-lane-test-" });
  try {
    await fn(`${dir}/lane.sock`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Lane opens on the connection that says hello with its token, and refuses another", async () => {
  await withSocket(async (socket) => {
    let impostorRefused!: Promise<void>;
    const host = scriptedHost(async (lane) => {
      const impostor = await Deno.connect({ transport: "unix", path: socket });
      const impostorEnd = createStdioEndpoint(impostor, impostor);
      impostorEnd.channel(0).postMessage(
        { stepbox: "hello", token: "a guess" } satisfies WorkerSignal,
      );
      impostorRefused = impostorEnd.closed;
      const conn = await Deno.connect({ transport: "unix", path: socket });
      const worker = createStdioEndpoint(conn, conn).channel(0);
      worker.addEventListener("message", (event) => {
        const signal = (event as MessageEvent).data as WorkerSignal;
        if (signal.stepbox !== "run") return;
        worker.postMessage(
          {
            stepbox: "done",
            id: signal.id,
            outcome: { ok: true, value: { kind: "clone", value: "ran" } },
          } satisfies WorkerSignal,
        );
      });
      worker.postMessage(
        { stepbox: "hello", token: lane.token } satisfies WorkerSignal,
      );
      return { ok: true };
    });
    const signals: WorkerSignal[] = [];
    let answered!: () => void;
    const done = new Promise<void>((resolve) => answered = resolve);
    const lane = new Lane(host, socket, TARGET, {}, {
      signal: (signal) => {
        signals.push(signal);
        answered();
      },
      ended: () => assert.fail("the lane ended"),
    });
    await lane.opened;
    assert.equal(lane.isOpen, true);
    await impostorRefused;
    // The path is free for another lane once this one is open.
    await assert.rejects(Deno.stat(socket), Deno.errors.NotFound);
    lane.run(7, {
      reference: TARGET.reference,
      exportName: "run",
      builtin: false,
      inputs: { kind: "clone", value: {} },
    });
    await done;
    assert.deepEqual(signals, [{
      stepbox: "done",
      id: 7,
      outcome: { ok: true, value: { kind: "clone", value: "ran" } },
    }]);
    await lane.close();
    assert.equal(lane.isOpen, false);
    assert.deepEqual(host.closed, [socket]);
  });
});

Deno.test("Lane rejects its opening with the host's reason when the Worker cannot load", async () => {
  await withSocket(async (socket) => {
    const host = scriptedHost(() =>
      Promise.resolve({
        ok: false,
        error: serializeError(
          new SandboxError('Cannot load "file:///step.ts": no such file'),
        ),
      })
    );
    const lane = new Lane(host, socket, TARGET, {}, {
      signal: () => {},
      ended: () => {},
    });
    await assert.rejects(
      lane.opened,
      (error: Error) =>
        error instanceof SandboxError && /no such file/.test(error.message),
    );
    await assert.rejects(Deno.stat(socket), Deno.errors.NotFound);
    await lane.close();
  });
});

Deno.test("Lane ends with the host's reason when its Worker goes away", async () => {
  await withSocket(async (socket) => {
    let conn!: Deno.Conn;
    const host = scriptedHost(async (lane) => {
      conn = await Deno.connect({ transport: "unix", path: socket });
      createStdioEndpoint(conn, conn).channel(0).postMessage(
        { stepbox: "hello", token: lane.token } satisfies WorkerSignal,
      );
      return { ok: true };
    });
    let ended!: (reason: Promise<unknown>) => void;
    const endedWith = new Promise<Promise<unknown>>((resolve) =>
      ended = resolve
    );
    const lane = new Lane(host, socket, TARGET, {}, {
      signal: () => {},
      ended: (_lane, reason) => ended(reason),
    });
    await lane.opened;
    lane.report(new SandboxError("The worker closed itself"));
    conn.close();
    const reason = await (await endedWith);
    assert.ok(reason instanceof SandboxError);
    assert.equal(reason.message, "The worker closed itself");
    await lane.close();
  });
});

Deno.test("createSandboxExecutor() pool: a permissions object changed between calls gets a Worker with the new permissions", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  const hostname = fixtureTarget("reports_permissions.ts", "sysHostname");
  const permissions: { sys?: string[] } = { sys: ["hostname"] };
  const options = callOptions({
    permissions,
    policy: { allow: { sys: ["hostname"] }, env: {} },
  });
  assert.equal(
    typeof (await executor.call(hostname, {}, options) as {
      hostname: string;
    }).hostname,
    "string",
  );
  delete permissions.sys;
  await assert.rejects(
    executor.call(hostname, {}, options),
    (error: Error) => error.name === "StepPermissionError",
  );
});

Deno.test("createSandboxExecutor() pool: a Worker that dies while idle leaves the pool at once, and the next call gets a fresh one", async () => {
  await using executor = createSandboxExecutor({ isolation: "pool" });
  const target = fixtureTarget("dies.ts", "answersThenThrows");
  for (let call = 0; call < 3; call++) {
    assert.deepEqual(await executor.call(target, {}, callOptions()), {
      answered: true,
    });
    // The Worker dies 20 ms after answering; its host says why within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  const stats = (await executor.stats()).hosts[0]!;
  assert.equal(stats.startedWorkers, 3);
});
