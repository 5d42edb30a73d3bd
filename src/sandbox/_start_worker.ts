/**
 * Starting a step's Worker: the generated entry module, and every permission key set (an unset
 * key would be inherited from the host). `host_entry.ts` starts the preloaded workers with it
 * before the rest of the host loads; `host_main.ts` starts every other worker.
 *
 * @module
 */

import {
  type LaneGrant,
  toWorkerPermissions,
  withLaneGrant,
} from "./policy.ts";
import type { WorkerTarget } from "./host_main.ts";

const WORKER_ENTRY_URL = new URL("./worker_entry.ts", import.meta.url).href;
const LANE_ENTRY_URL = new URL("./lane_entry.ts", import.meta.url).href;
const EVENT_TYPES = ["message", "error", "messageerror"] as const;

/**
 * Starts the Worker of `target`: a generated entry that imports the worker entry and the step
 * module statically, so the module loads under the host's permissions.
 *
 * @param target The module, and the permissions of its calls.
 * @param lane For a `pool` Worker that serves its calls on a lane of its own (`lane_entry.ts`):
 *   what it is granted until it has connected.
 * @returns The Worker (new Worker() blocks this thread while it starts).
 * @throws {Error} when the host's own permissions do not cover the target's.
 *
 * @example
 * ```ts ignore
 * const worker = startWorker({ reference: "s.ts#f", specifier: "file:///s.ts", permissions: {} });
 * ```
 */
export function startWorker(target: WorkerTarget, lane?: LaneGrant): Worker {
  const s = JSON.stringify;
  const [serve, entry] = lane === undefined
    ? ["serveStep", WORKER_ENTRY_URL]
    : ["serveLane", LANE_ENTRY_URL];
  const source = `import { ${serve} } from ${s(entry)};\n` +
    `import * as stepModule from ${s(target.specifier)};\n` +
    `${serve}(stepModule, { specifier: ${s(target.specifier)} });\n`;
  const permissions = toWorkerPermissions(target.permissions);
  return new Worker(
    `data:application/javascript,${encodeURIComponent(source)}`,
    {
      type: "module",
      name: target.reference,
      deno: {
        permissions: lane === undefined
          ? permissions
          : withLaneGrant(permissions, lane),
      },
    } as WorkerOptions,
  );
}

/** A Worker started before anyone listens to it: what it sends meanwhile is kept. */
export interface EarlyWorker {
  readonly target: WorkerTarget;
  /** The Worker, or why it could not start. */
  readonly started: { worker: Worker } | { error: unknown };
  /** Stops keeping events and returns the ones kept, oldest first, for new listeners to
   * handle. */
  adopt(): Event[];
}

/**
 * Starts the Worker of `target` at once and keeps its events (an error's default action
 * prevented, as the host's own listener would) until {@linkcode EarlyWorker.adopt}.
 *
 * @param target The module, and the permissions of its calls.
 * @returns The early worker.
 *
 * @example
 * ```ts ignore
 * const early = startEarly(target);
 * // ... later, once listeners are attached:
 * for (const event of early.adopt()) handle(event);
 * ```
 */
export function startEarly(target: WorkerTarget): EarlyWorker {
  let worker: Worker;
  try {
    worker = startWorker(target);
  } catch (error) {
    return { target, started: { error }, adopt: () => [] };
  }
  const kept: Event[] = [];
  const keep = (event: Event) => {
    // Without this, a module that fails to load would end the host before it is adopted.
    if (event.type === "error") event.preventDefault();
    kept.push(event);
  };
  for (const type of EVENT_TYPES) worker.addEventListener(type, keep);
  return {
    target,
    started: { worker },
    adopt() {
      for (const type of EVENT_TYPES) worker.removeEventListener(type, keep);
      return kept.splice(0);
    },
  };
}
