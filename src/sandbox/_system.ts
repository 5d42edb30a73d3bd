/**
 * What the parent side of the sandbox needs of its runtime: starting processes, Unix sockets,
 * temporary files, its environment. One interface, {@linkcode HostSystem}, with an
 * implementation per runtime (`_system_deno.ts`, `_system_node.ts`), so that the host client
 * and its lanes run on Deno and on Node alike. The sandbox host itself is always `deno run`.
 *
 * @module
 */

import { SandboxError } from "../errors.ts";
import { detectRuntime } from "../_util/runtime.ts";
import { denoSystem } from "./_system_deno.ts";
import type { ByteReader, ByteWriter } from "./stdio_endpoint.ts";

/** A signal the parent sends a host or a command's process group (the same name on Deno and
 * Node). */
export type HostSignal = "SIGINT" | "SIGTERM" | "SIGKILL";

/** A started host process. */
export interface HostChild {
  readonly pid: number;
  /** Resolves once the process has exited (or could not start). */
  readonly status: Promise<unknown>;
  /** Sends `signal`; a process that has exited is left alone. */
  kill(signal: HostSignal): void;
  readonly stdout: AsyncIterable<Uint8Array>;
  readonly stderr: AsyncIterable<Uint8Array>;
}

/** One accepted socket connection, read and written directly. */
export interface HostConnection extends ByteReader, ByteWriter {
  close(): void;
}

/** A Unix socket being listened on. */
export interface HostListener {
  /** The next connection; rejects once the listener is closed. */
  accept(): Promise<HostConnection>;
  close(): void;
}

/** The runtime services the parent side of the sandbox uses. */
export interface HostSystem {
  /** The Deno binary that runs hosts when the caller names none.
   * @throws {SandboxError} when there is none to be found. */
  denoPath(): string;
  /** comlink's ES module build as a `file:` URL, which the host loads as a plain file.
   * @throws {SandboxError} when it cannot be found. */
  comlinkFileUrl(): Promise<string>;
  /** A variable of this process's environment; `undefined` when unset or not readable. */
  env(name: string): string | undefined;
  /** This process's working directory; `undefined` when it may not be read. */
  cwd(): string | undefined;
  makeTempDirSync(prefix: string): string;
  writeTextFileSync(path: string, text: string): void;
  /** Removes a file or a whole directory; one that is not there is no error. */
  removeSync(path: string): void;
  /** Removes a file or a whole directory; never rejects. */
  remove(path: string): Promise<void>;
  /** Listens on a Unix socket at `path` (which must be free), at once. */
  listen(path: string): HostListener;
  /** Starts `command` with exactly `env`, no stdin and its stdout and stderr piped, at once. */
  spawn(
    command: string,
    args: readonly string[],
    env: Record<string, string>,
  ): HostChild;
  /** Runs `command` with exactly `env` and no stdio to completion; never rejects. */
  run(
    command: string,
    args: readonly string[],
    env: Record<string, string>,
  ): Promise<void>;
  /** Signals the process group that `pid` leads; a group that is gone is skipped. */
  killGroup(pid: number, signal: HostSignal): void;
}

/**
 * The host system of the runtime this runs on: Deno's at once, Node's once its module has
 * loaded (only Node loads it).
 *
 * @param isolation The isolation asked for, named when there is no system.
 * @returns The system, or a promise of it on Node.
 * @throws {SandboxError} on a runtime that cannot start processes or listen on sockets (an
 * edge runtime, Deno Deploy): nothing could confine a step there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadHostSystem } from "./_system.ts";
 * const system = loadHostSystem();
 * assert.equal(system instanceof Promise, false); // on Deno
 * ```
 */
export function loadHostSystem(
  isolation: string = "step",
): HostSystem | Promise<HostSystem> {
  switch (detectRuntime()) {
    case "deno": {
      // Deno Deploy has Deno, but neither subprocesses nor sockets.
      const deno = Deno as { Command?: unknown; listen?: unknown };
      if (
        typeof deno.Command === "function" && typeof deno.listen === "function"
      ) {
        return denoSystem;
      }
      break;
    }
    case "node":
      return import("./_system_node.ts").then((module) => module.nodeSystem);
  }
  // Fail closed: without subprocesses and sockets nothing here could confine a step.
  throw new SandboxError(
    `Cannot create a "${isolation}" sandbox executor: this runtime cannot start a sandbox host (it lacks Deno's or Node's subprocess and socket APIs); run under Deno or Node, or choose isolation "inline", which does not enforce permissions`,
  );
}
