/**
 * What does a warm step call cost? The `hello` step called in-process, through a warm Worker
 * (raw `postMessage`, then comlink), through a warm relay process and its Worker (the two hops of
 * a call relayed by a sandbox host, nothing else), through a warm process answering on a Unix
 * socket (the one hop of a `pool` lane, nothing else), and through stepbox's `inline` and `pool`
 * executors.
 *
 * Small-message round trips on a shared 2-vCPU machine swing 2x between runs, so `bench/main.ts`
 * also runs {@linkcode PINNED_TASKS} a second time with every thread on one CPU (`taskset -c 0`).
 *
 * @module
 */

import { wrap } from "comlink";
import type { BenchGroup } from "./_group.ts";
import { hello } from "./fixtures/hello.ts";
import {
  COMLINK_WORKER_URL,
  connect,
  RAW_WORKER_URL,
  startWorker,
} from "./_workers.ts";
import { FrameReader, writeFrame } from "./_frames.ts";
import { addHelloStepTask, ROOT_URL } from "./_stepbox.ts";

/** The round-trip tasks that are measured again with every thread pinned to one CPU. */
export const PINNED_TASKS: readonly string[] = Object.freeze([
  "raw-postmessage-rtt",
  "comlink-rtt",
  "host-worker-rtt",
  "socket-rtt",
  "pool-step",
  "pool-step-new-list",
]);

const INPUTS = Object.freeze({ name: "bench" });

/**
 * Registers `direct-call`, `raw-postmessage-rtt`, `comlink-rtt`, `host-worker-rtt`, `socket-rtt`,
 * `inline-step`, `pool-step` and `pool-step-new-list`.
 *
 * @example Run the floors with a tiny budget
 * ```ts
 * import assert from "node:assert/strict";
 * import { BenchGroup } from "./_group.ts";
 * import { roundtripBench } from "./roundtrip_bench.ts";
 *
 * const group = new BenchGroup({ time: 1, filter: "rtt" });
 * await roundtripBench(group);
 * try {
 *   for (const task of group.tasks) await task.measure();
 * } finally {
 *   await group.close();
 * }
 * assert.deepEqual(
 *   group.tasks.map((task) => task.name),
 *   ["raw-postmessage-rtt", "comlink-rtt", "host-worker-rtt", "socket-rtt"],
 * );
 * ```
 */
export async function roundtripBench(group: BenchGroup): Promise<void> {
  group.add("direct-call", "fast", () => hello(INPUTS), { async: false });

  const raw = group.scoped(() => {
    const worker = startWorker(RAW_WORKER_URL);
    return { worker, request: connect(worker) };
  }, ({ worker }) => worker.terminate());
  group.add(
    "raw-postmessage-rtt",
    "fast",
    () => raw.value.request(INPUTS),
    { async: true, ...raw.hooks },
  );

  const comlinked = group.scoped(() => {
    const worker = startWorker(COMLINK_WORKER_URL);
    return { worker, remote: wrap<{ hello: typeof hello }>(worker) };
  }, ({ worker }) => worker.terminate());
  group.add(
    "comlink-rtt",
    "fast",
    () => comlinked.value.remote.hello(INPUTS),
    { async: true, ...comlinked.hooks },
  );

  for (
    const [name, script] of [
      ["host-worker-rtt", "relay_host.ts"],
      ["socket-rtt", "socket_host.ts"],
    ] as const
  ) {
    const relay = group.scoped(
      () => startRelay(script),
      (value) => value.close(),
    );
    group.add(
      name,
      "fast",
      async () => {
        const { conn, frames } = relay.value;
        await writeFrame(conn, JSON.stringify(INPUTS));
        const reply = await frames.next();
        if (reply === undefined) {
          throw new Error(`Cannot run ${script}: it closed its socket`);
        }
        return JSON.parse(reply);
      },
      { async: true, ...relay.hooks },
    );
  }

  await addHelloStepTask(group, "inline-step", {
    isolation: "inline",
    profile: "fast",
  });
  await addHelloStepTask(group, "pool-step", {
    isolation: "pool",
    profile: "fast",
  });
  await addHelloStepTask(group, "pool-step-new-list", {
    isolation: "pool",
    profile: "fast",
    newList: true,
  });
}

/** A child process that answers on a Unix socket, and the socket to it. */
interface Relay {
  conn: Deno.Conn;
  frames: FrameReader;
  close(): Promise<void>;
}

/**
 * Starts `fixtures/<script>` in its own process and accepts its connection on a Unix socket in a
 * fresh temp dir: the same shape as stepbox's sandbox host, with nothing else in it.
 */
async function startRelay(script: string): Promise<Relay> {
  const dir = await Deno.makeTempDir({ prefix: "stepbox-bench-" });
  const path = `${dir}/relay.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-worker-options",
      new URL(`./fixtures/${script}`, import.meta.url).pathname,
      path,
    ],
    cwd: ROOT_URL.pathname,
    stdin: "null",
    stdout: "null",
  }).spawn();
  try {
    const conn = await Promise.race([
      listener.accept(),
      child.status.then((status) => {
        throw new Error(
          `Cannot start ${script}: it exited with code ${status.code}`,
        );
      }),
    ]);
    return {
      conn,
      frames: new FrameReader(conn),
      async close() {
        conn.close();
        await child.status;
        await Deno.remove(dir, { recursive: true });
      },
    };
  } finally {
    listener.close();
  }
}
