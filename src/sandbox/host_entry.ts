/**
 * The sandbox host process's main module, started by {@linkcode createSandboxExecutor} as
 * `deno run --no-config --import-map=<generated> --allow-import=<mapped hosts> <the ceiling as
 * flags> --v8-flags=--max-old-space-size=<cap> host_entry.ts <config JSON>` with a filtered
 * environment. It starts the preloaded workers first (new Worker() blocks for milliseconds, and
 * each then loads its module on its own thread), then loads and runs the host itself
 * (`host_main.ts`) while they load.
 *
 * @module
 */

import { startEarly } from "./_start_worker.ts";
import type { HostConfig } from "./host_main.ts";

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0] ?? "{}") as HostConfig;
  // Connected before the workers start: the parent sends the first call while this thread is
  // blocked in new Worker(), so the call is waiting by the time the host can read it.
  const connecting = Deno.connect({ transport: "unix", path: config.socket });
  connecting.catch(() => {});
  const early = (config.preload ?? []).map((target) => startEarly(target));
  // Nothing to preload (a host started ahead of its run, which is told its workers once the
  // run has checked it): connected first, so the run can tell it at once.
  if (early.length === 0) await connecting.catch(() => {});
  const { runHost } = await import("./host_main.ts");
  await runHost(config, { early, connecting });
  // Workers may still hold the event loop for a moment after terminate(); the host is done.
  Deno.exit(0);
}
