/**
 * Measures the memory of the parent process and of its sandbox hosts over 1,000 sequential
 * step calls in one executor (the embedding case), reading VmRSS from /proc (Linux only).
 * Prints, per isolation mode, the parent's RSS and V8 heap after 100 and after 1,000 calls
 * (after a full GC when `--v8-flags=--expose-gc` is given) and the hosts' RSS: the current one
 * and the highest seen (sampled every 50 calls; `step` hosts are recycled every 200 workers).
 *
 * Usage: `deno run -A --v8-flags=--expose-gc scripts/measure_memory.ts [calls=1000] [step,pool]`
 *
 * @module
 */

import { createSandboxExecutor } from "../src/sandbox/host_client.ts";

const calls = Number(Deno.args[0] ?? 1000);
const modes = (Deno.args[1] ?? "step,pool").split(",") as Array<
  "step" | "pool"
>;
const target = {
  reference: "./returns_object.ts#returnsObject",
  specifier:
    new URL("../tests/fixtures/steps/returns_object.ts", import.meta.url)
      .href,
  exportName: "returnsObject",
  builtin: false,
};
const options = {
  permissions: {},
  importMap: {},
  env: {},
  policy: { allow: {}, env: {} },
};
const gc = (globalThis as { gc?: () => void }).gc;

function rssMiB(pid: number | "self"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return NaN; // the host was recycled meanwhile
  }
}

const mib = (bytes: number) => Math.round(bytes / 104857.6) / 10;
const rows: string[] = [];
for (const isolation of modes) {
  await using executor = createSandboxExecutor({ isolation });
  let hostMax = 0;
  const started = performance.now();
  for (let i = 1; i <= calls; i++) {
    await executor.call(target, { name: `call ${i}`, index: i }, options);
    if (i % 50 === 0 || i === calls) {
      const hosts = (await executor.stats()).hosts;
      for (const host of hosts) hostMax = Math.max(hostMax, rssMiB(host.pid));
      if (i === 100 || i === 1000 || i === calls) {
        gc?.();
        const hostNow = hosts.map((host) =>
          `${rssMiB(host.pid)} MiB (heap ${
            mib(host.memory.heapUsed)
          }, external ${
            mib(host.memory.external)
          } MiB, ${host.startedWorkers} workers)`
        ).join(", ") || "recycled";
        rows.push(
          `${isolation.padEnd(4)} ${String(i).padStart(5)} calls: parent RSS ${
            rssMiB("self")
          } MiB (heap ${mib(Deno.memoryUsage().heapUsed)}, external ${
            mib(Deno.memoryUsage().external)
          } MiB); host now ${hostNow}, host max ${hostMax} MiB; ${
            ((performance.now() - started) / i).toFixed(2)
          } ms/call`,
        );
      }
    }
  }
}
// deno-lint-ignore no-console -- a measurement script reports on stdout
console.log(rows.join("\n"));
