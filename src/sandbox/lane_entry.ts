/**
 * Inside a `pool` step's Worker: once its module has loaded, the Worker connects straight to the
 * parent over a Unix socket of its own (a lane) and serves its calls there, so a warm call
 * crosses one process boundary instead of the socket to the host and a `postMessage` on to the
 * Worker. The host starts it from a generated entry, as `worker_entry.ts` describes:
 *
 * ```text
 * import { serveLane } from "file:///.../lane_entry.ts";
 * import * as stepModule from "file:///.../step.ts";
 * serveLane(stepModule, { specifier: "file:///.../step.ts" });
 * ```
 *
 * The Worker is granted the lane's socket on top of its step's permissions only as long as it
 * takes to connect: it revokes that grant before its first call. The token it sends first tells
 * the parent the connection is this Worker's and not another's.
 *
 * @module
 */

import * as pieces from "./_pieces.ts";
import { createStdioEndpoint } from "./stdio_endpoint.ts";
import {
  guardSelfExit,
  serveStep,
  type SignalEndpoint,
  type WorkerSignal,
} from "./worker_entry.ts";

/**
 * Serves a loaded step module over a lane: posts `{ stepbox: "ready" }` to the host, waits for
 * its `lane` message, connects, drops the socket's grant, says `hello` with the token on the lane
 * and answers each call there (see `serveStep`).
 *
 * @param stepModule The step module's namespace object.
 * @param options The step module's specifier, for messages.
 *
 * @example
 * ```ts ignore
 * serveLane(await import("./step.ts"), { specifier: "file:///step.ts" });
 * ```
 */
export function serveLane(
  stepModule: Record<string, unknown>,
  options: { specifier: string },
): void {
  const scope = globalThis as unknown as SignalEndpoint & {
    removeEventListener(type: "message", listener: unknown): void;
  };
  guardSelfExit(scope);
  const onLane = (event: MessageEvent) => {
    const signal = event.data as WorkerSignal | undefined;
    if (signal?.stepbox !== "lane") return;
    scope.removeEventListener("message", onLane);
    void (async () => {
      const conn = await Deno.connect({
        transport: "unix",
        path: signal.socket,
      });
      for (const descriptor of signal.revoke) {
        await Deno.permissions.revoke(descriptor);
      }
      const stream = createStdioEndpoint(conn, conn);
      const lane = stream.channel(0);
      lane.postMessage(
        { stepbox: "hello", token: signal.token } satisfies WorkerSignal,
      );
      serveStep(stepModule, {
        specifier: options.specifier,
        endpoint: lane as unknown as SignalEndpoint,
        host: scope,
        routeOutput: true,
        pieces: {
          module: pieces,
          written: stream.flushed,
          isOpen: () => !stream.isClosed,
        },
      });
    })().catch((error) => {
      // Reaches the host as the Worker's error event, which ends the lane with this reason.
      throw new Error(
        `Cannot connect the worker to its parent: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    });
  };
  scope.addEventListener("message", onLane);
  scope.postMessage({ stepbox: "ready" } satisfies WorkerSignal);
}
