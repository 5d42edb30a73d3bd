/**
 * Measures the sandbox's per-call cost against its floors in ONE run (round trips on this kind
 * of VM swing 2x between runs, so only ratios within a run mean anything): a bare Worker spawn
 * (all permissions denied, first message, terminate), a raw postMessage round trip to a warm
 * Worker, a JSON round trip of 1 MB, and stepbox's fresh-worker call (`step`), warm call
 * (`pool`) and 1 MB payload through a warm worker. Prints the median (p50) of each.
 *
 * Usage: `deno run -A scripts/measure_speed.ts [samples=200]`
 *
 * @module
 */

import { createSandboxExecutor } from "../src/sandbox/host_client.ts";

const samples = Number(Deno.args[0] ?? 200);
const NONE = {
  read: false,
  write: false,
  net: false,
  env: false,
  run: false,
  sys: false,
  ffi: false,
  import: false,
};
const ECHO = "data:application/javascript," +
  encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");

async function measure(
  count: number,
  fn: () => Promise<unknown> | unknown,
): Promise<number> {
  for (let i = 0; i < Math.min(10, count); i++) await fn(); // warm up
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function reply(worker: Worker, message: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage(message);
  });
}

const results: Record<string, number> = {};

results["bare-worker-spawn"] = await measure(
  Math.min(samples, 100),
  async () => {
    const worker = new Worker(ECHO, {
      type: "module",
      deno: { permissions: NONE },
    } as WorkerOptions);
    await reply(worker, 1);
    worker.terminate();
  },
);

const warm = new Worker(
  ECHO,
  { type: "module", deno: { permissions: NONE } } as WorkerOptions,
);
results["raw-postmessage-rtt"] = await measure(
  samples * 10,
  () => reply(warm, { a: 1 }),
);
warm.terminate();

const big = {
  items: Array.from({ length: 8000 }, (_, i) => ({
    id: i,
    name: `item ${i}`,
    text: "x".repeat(100),
  })),
};
results["json-roundtrip-1mb"] = await measure(
  samples,
  () => JSON.parse(JSON.stringify(big)),
);

const target = {
  reference: "./returns_object.ts#returnsObject",
  specifier:
    new URL("../tests/fixtures/steps/returns_object.ts", import.meta.url).href,
  exportName: "returnsObject",
  builtin: false,
};
const echo = {
  ...target,
  reference: "./returns_object.ts#echoPayload",
  exportName: "echoPayload",
};
const options = {
  permissions: {},
  importMap: {},
  env: {},
  policy: { allow: {}, env: {} },
};

{
  await using step = createSandboxExecutor({ isolation: "step" });
  results["isolated-step"] = await measure(
    Math.min(samples, 100),
    () => step.call(target, { name: "x" }, options),
  );
  results["isolated-step-prepared"] = await measure(
    Math.min(samples, 100),
    async () => {
      const call = step.call(target, { name: "x" }, options);
      step.prepare!(target, options); // the next call's worker starts while this one runs
      await call;
    },
  );
  // A step that works for 20 ms, without and with the next worker prepared meanwhile.
  const sleeps = {
    ...target,
    reference: "./hangs.ts#sleeps",
    specifier:
      new URL("../tests/fixtures/steps/hangs.ts", import.meta.url).href,
    exportName: "sleeps",
  };
  results["isolated-step-20ms"] = await measure(
    Math.min(samples, 50),
    () => step.call(sleeps, { ms: 20 }, options),
  );
  results["isolated-step-20ms-prepared"] = await measure(
    Math.min(samples, 50),
    async () => {
      const call = step.call(sleeps, { ms: 20 }, options);
      step.prepare!(sleeps, options);
      await call;
    },
  );
}
{
  await using pool = createSandboxExecutor({ isolation: "pool" });
  results["pool-step"] = await measure(
    samples * 10,
    () => pool.call(target, { name: "x" }, options),
  );
  results["payload-1mb-pool"] = await measure(
    Math.min(samples, 50),
    () => pool.call(echo, { payload: big }, options),
  );
}

const floors: Record<string, [string, number]> = {
  "isolated-step": ["bare-worker-spawn", 1.25],
  "isolated-step-prepared": ["bare-worker-spawn", 1.25],
  "pool-step": ["raw-postmessage-rtt", 2],
  "payload-1mb-pool": ["json-roundtrip-1mb", 3],
};
const lines = [`${"task".padEnd(24)} ${"p50".padStart(10)}  ratio (target)`];
for (const [name, ms] of Object.entries(results)) {
  const floor = floors[name];
  const ratio = floor
    ? `${(ms / results[floor[0]]!).toFixed(2)}x ${floor[0]} (<= ${floor[1]}x)`
    : "";
  lines.push(
    `${name.padEnd(24)} ${
      (ms < 1 ? `${(ms * 1000).toFixed(0)} us` : `${ms.toFixed(2)} ms`)
        .padStart(10)
    }  ${ratio}`,
  );
}
// deno-lint-ignore no-console -- a measurement script reports on stdout
console.log(lines.join("\n"));
