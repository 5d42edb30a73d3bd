/**
 * How a sandbox host process is started: its whole command line and environment as one value
 * ({@linkcode HostCommand}), so that a host started ahead of time (the CLI's launch cache) can be
 * compared with the one a run needs before it is used. Loads nothing else of the sandbox: the
 * runtime's services come in as a {@linkcode HostSystem}.
 *
 * @module
 */

import { sourceUrl } from "../_util/source_url.ts";
import { stableJson } from "../_util/stable_json.ts";
import type { HostConfig } from "./host_main.ts";
import type {
  HostChild,
  HostConnection,
  HostListener,
  HostSystem,
} from "./_system.ts";

/**
 * Stands for the host's socket path in {@linkcode HostCommand.flags}: each host gets a socket in
 * a fresh private directory, so a command that is kept and compared must not name one. (No path
 * can contain a NUL.)
 */
export const SOCKET_TOKEN = "\u0000socket\u0000";

/**
 * The socket path of lane `slot` of the host whose socket is `socket` (a path, or
 * {@linkcode SOCKET_TOKEN} in a command): beside it, in the host's private directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { laneSocket } from "./_host_process.ts";
 * assert.equal(laneSocket("/tmp/stepbox-host-1/host.sock", 2), "/tmp/stepbox-host-1/host.sock.lane2");
 * ```
 */
export function laneSocket(socket: string, slot: number): string {
  return `${socket}.lane${slot}`;
}

const HOST_ENTRY = sourceUrl("sandbox/host_entry.ts");

// Most import maps fit on the command line as a data: URL, which saves writing a file before
// every host start; a large one (beyond what one argument may hold) goes to a file.
const INLINE_IMPORT_MAP_LIMIT = 64 * 1024;

/**
 * The import map of `command` as a `data:` URL argument, or `undefined` when it is too large
 * for the command line (the host then reads it from a file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inlineImportMap } from "./_host_process.ts";
 * assert.equal(inlineImportMap('{"imports":{}}'), "data:application/json,%7B%22imports%22%3A%7B%7D%7D");
 * assert.equal(inlineImportMap(JSON.stringify({ imports: { a: "x".repeat(70_000) } })), undefined);
 * ```
 */
export function inlineImportMap(importMap: string): string | undefined {
  const inline = `data:application/json,${encodeURIComponent(importMap)}`;
  return inline.length <= INLINE_IMPORT_MAP_LIMIT ? inline : undefined;
}

/**
 * The `--import-map` value for `importMap` (JSON text): a `data:` URL when it fits on the
 * command line, else a file written in the directory `dir()` gives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importMapArgument } from "./_host_process.ts";
 * import { denoSystem } from "./_system_deno.ts";
 * const noDir = () => { throw new Error("not needed"); };
 * assert.equal(importMapArgument("{}", denoSystem, noDir), "data:application/json,%7B%7D");
 * ```
 */
export function importMapArgument(
  importMap: string,
  system: Pick<HostSystem, "writeTextFileSync">,
  dir: () => string,
): string {
  const inline = inlineImportMap(importMap);
  if (inline !== undefined) return inline;
  const file = `${dir()}/import_map.json`;
  system.writeTextFileSync(file, importMap);
  return file;
}

/** Everything a host process is started with. */
export interface HostCommand {
  /** The Deno binary. */
  denoPath: string;
  /** The run's import map, as `{"imports": {...}}` JSON text. */
  importMap: string;
  /** Deno's permission flags: the run's ceiling and what the host itself needs to read, write,
   * connect to and import ({@linkcode SOCKET_TOKEN} stands for the socket). */
  flags: string[];
  /** The V8 heap cap, in MiB. */
  memoryMb: number;
  /** The host's configuration, except the socket. */
  config: Omit<HostConfig, "socket">;
  /** The host's whole environment. */
  env: Record<string, string>;
}

/** A started host process and its connection, accepted as soon as the host makes it. */
export interface SpawnedHost {
  readonly child: HostChild;
  /** Where the host connects to; closed by whoever takes the connection. */
  readonly listener: HostListener;
  /** The host's connection; rejects once the listener is closed without one. */
  readonly connection: Promise<HostConnection>;
  /** The host's private directory (its socket, perhaps its import map); removed after. */
  readonly dir: string;
  /** The host's socket path, in `dir`. */
  readonly socket: string;
}

/**
 * Hands over host processes started ahead of time: an executor offers the command of each host
 * it is about to start, and takes the process started for exactly that command instead, if
 * there is one. A launcher that is offered a different command ends its process.
 */
export interface HostLauncher {
  take(command: HostCommand): SpawnedHost | undefined;
}

/**
 * Starts a host process for `command` in a fresh private directory, listening on its socket.
 * Synchronous: the process is on its way before the caller goes on.
 *
 * @param command What to start.
 * @param system The runtime's services.
 * @returns The process, its listener, its connection to come and its directory.
 *
 * @example Start a host and stop it before it connects
 * ```ts ignore
 * const host = spawnHost(command, denoSystem);
 * host.child.kill("SIGKILL");
 * host.listener.close();
 * await host.child.status;
 * denoSystem.removeSync(host.dir);
 * ```
 */
export function spawnHost(
  command: HostCommand,
  system: HostSystem,
): SpawnedHost {
  const dir = system.makeTempDirSync("stepbox-host-");
  const socket = `${dir}/host.sock`;
  const importMap = importMapArgument(command.importMap, system, () => dir);
  const listener = system.listen(socket);
  try {
    const child = system.spawn(
      command.denoPath,
      [
        "run",
        "--no-config",
        "--quiet",
        "--unstable-worker-options",
        `--import-map=${importMap}`,
        ...command.flags.map((flag) => flag.replaceAll(SOCKET_TOKEN, socket)),
        `--v8-flags=--max-old-space-size=${command.memoryMb}`,
        HOST_ENTRY.href,
        JSON.stringify({ ...command.config, socket } satisfies HostConfig),
      ],
      command.env,
    );
    const connection = listener.accept();
    connection.catch(() => {});
    return { child, listener, connection, dir, socket };
  } catch (error) {
    listener.close();
    system.removeSync(dir);
    throw error;
  }
}

/**
 * Whether a host started for `started` can serve a run that needs `needed`: everything equal
 * except the workers to preload, which the run can still ask for once connected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameHostCommand } from "./_host_process.ts";
 * const command = {
 *   denoPath: "deno", importMap: "{}", flags: ["--allow-read=/a"], memoryMb: 512,
 *   config: { comlinkUrl: "file:///c.mjs", preparedIdleMs: 1 },
 *   env: { PATH: "/bin" },
 * };
 * assert.equal(sameHostCommand(command, structuredClone(command)), true);
 * assert.equal(sameHostCommand(command, { ...command, flags: ["--allow-read"] }), false);
 * ```
 */
export function sameHostCommand(
  started: HostCommand,
  needed: HostCommand,
): boolean {
  return comparable(started) === comparable(needed);
}

function comparable(command: HostCommand): string {
  const { preload: _preload, ...config } = command.config;
  return stableJson([
    command.denoPath,
    command.importMap,
    command.flags,
    command.memoryMb,
    config,
    command.env,
  ]);
}
