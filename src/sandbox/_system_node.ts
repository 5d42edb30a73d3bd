/**
 * The parent side of the sandbox on Node: {@linkcode HostSystem} over Node's child processes,
 * `node:net` Unix sockets and `node:fs`. Loaded only on Node. The hosts it starts are `deno run`
 * of the package's `src/`, with the Deno binary of the `deno` npm package (the optional peer
 * dependency) or the one on `PATH`.
 *
 * @module
 */

import { spawn } from "node:child_process";
import {
  accessSync,
  constants,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { SandboxError } from "../errors.ts";
import type {
  HostChild,
  HostConnection,
  HostListener,
  HostSignal,
  HostSystem,
} from "./_system.ts";

const EXE = process.platform === "win32" ? "deno.exe" : "deno";

/** Where {@linkcode findDeno} looks. */
export interface FindDenoOptions {
  /** Resolve the `deno` npm package from here. @default this module */
  from?: string | URL;
  /** The directories searched for `deno`, as in `PATH`. @default process.env.PATH */
  path?: string | undefined;
}

// The `deno` npm package finds (and links into place) its platform's binary itself.
function denoOfPackage(installApi: string): string | undefined {
  try {
    const { runInstall } = createRequire(installApi)(installApi) as {
      runInstall(): string;
    };
    const found = runInstall();
    return isExecutable(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the Deno binary: the `deno` npm package resolvable from `from` (stepbox's optional peer
 * dependency), else the first `deno` on `path`. A `deno` on `PATH` that is the npm package's
 * Node wrapper (`npx deno`, `node_modules/.bin/deno`) is followed to the binary itself, so that
 * signalling a host reaches Deno and not a wrapper.
 *
 * @param options Where to look.
 * @returns The binary's path, or `undefined` when there is none.
 *
 * @example
 * ```ts ignore
 * import { findDeno } from "./_system_node.ts";
 * console.log(findDeno() ?? "no deno");
 * ```
 */
export function findDeno(options: FindDenoOptions = {}): string | undefined {
  try {
    const installApi = createRequire(options.from ?? import.meta.url).resolve(
      "deno/install_api.cjs",
    );
    const found = denoOfPackage(installApi);
    if (found !== undefined) return found;
  } catch {
    // Not installed here: look on PATH.
  }
  const path = "path" in options ? options.path : process.env.PATH;
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, EXE);
    if (!isExecutable(candidate)) continue;
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (basename(real) !== "bin.cjs") return real;
    const found = denoOfPackage(join(dirname(real), "install_api.cjs"));
    if (found !== undefined) return found;
  }
  return undefined;
}

let foundDeno: string | undefined;

/** A socket read and written directly, as `Deno.Conn` is. */
class NodeConnection implements HostConnection {
  // Reading stops while this much is received and not yet read.
  static readonly #HIGH_WATER = 4 * 1024 * 1024;
  readonly #socket: Socket;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    const wake = () => {
      const waiting = this.#wake;
      this.#wake = undefined;
      waiting?.();
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered >= NodeConnection.#HIGH_WATER) socket.pause();
      wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      wake();
    });
    socket.on("error", (error) => {
      this.#error ??= error;
      wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      wake();
    });
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0]!;
    const count = Math.min(chunk.length, into.length);
    into.set(chunk.subarray(0, count));
    if (count === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(count);
    this.#buffered -= count;
    if (
      this.#socket.isPaused() && this.#buffered < NodeConnection.#HIGH_WATER
    ) {
      this.#socket.resume();
    }
    return count;
  }

  write(bytes: Uint8Array): Promise<number> {
    // Resolved once Node has handed the bytes on: the caller may reuse them after that.
    return new Promise((resolve, reject) => {
      this.#socket.write(
        bytes,
        (error) => error ? reject(error) : resolve(bytes.length),
      );
    });
  }

  closeWrite(): void {
    this.#socket.end();
  }

  close(): void {
    this.#socket.destroy();
  }
}

class NodeListener implements HostListener {
  readonly #server: Server;
  readonly #ready: Socket[] = [];
  readonly #waiting: {
    resolve(connection: HostConnection): void;
    reject(error: Error): void;
  }[] = [];
  #closed: Error | undefined;

  constructor(path: string) {
    this.#server = createServer((socket) => {
      const waiting = this.#waiting.shift();
      if (waiting !== undefined) waiting.resolve(new NodeConnection(socket));
      else this.#ready.push(socket);
    });
    this.#server.on("error", (error) => this.#end(error));
    // Bound before listen() returns: a host may connect as soon as it is started.
    this.#server.listen(path);
  }

  accept(): Promise<HostConnection> {
    const socket = this.#ready.shift();
    if (socket !== undefined) {
      return Promise.resolve(new NodeConnection(socket));
    }
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) =>
      this.#waiting.push({ resolve, reject })
    );
  }

  close(): void {
    this.#end(new SandboxError("The listener is closed"));
    this.#server.close();
  }

  #end(error: Error): void {
    this.#closed ??= error;
    for (const socket of this.#ready.splice(0)) socket.destroy();
    for (const waiting of this.#waiting.splice(0)) waiting.reject(error);
  }
}

function startChild(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  piped: boolean,
): HostChild {
  const child = spawn(command, args, {
    env,
    stdio: ["ignore", piped ? "pipe" : "ignore", piped ? "pipe" : "ignore"],
  });
  const status = new Promise<unknown>((resolve) => {
    child.once("exit", resolve);
    // Could not start (no such file, not executable): there is no exit to wait for.
    child.once("error", resolve);
  });
  const empty = (async function* () {})();
  return {
    pid: child.pid ?? 0,
    status,
    kill(signal: HostSignal) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal as NodeJS.Signals);
      }
    },
    stdout: child.stdout ?? empty,
    stderr: child.stderr ?? empty,
  };
}

/**
 * The host system on Node.
 *
 * @example
 * ```ts ignore
 * import { nodeSystem } from "./_system_node.ts";
 * const deno = nodeSystem.denoPath(); // throws SandboxError when there is none
 * ```
 */
export const nodeSystem: HostSystem = Object.freeze<HostSystem>({
  denoPath() {
    foundDeno ??= findDeno();
    if (foundDeno === undefined) {
      throw new SandboxError(
        `Cannot start a sandbox host: no Deno binary found (neither the "deno" npm package beside stepbox nor "deno" on PATH); install it with "npm install deno", pass the executor option "denoPath", or choose isolation "inline", which does not enforce permissions`,
      );
    }
    return foundDeno;
  },
  comlinkFileUrl() {
    try {
      const file = createRequire(import.meta.url).resolve(
        "comlink/dist/esm/comlink.mjs",
      );
      return Promise.resolve(pathToFileURL(file).href);
    } catch (error) {
      return Promise.reject(
        new SandboxError(
          `Cannot find comlink's ES module build: ${
            error instanceof Error ? error.message : String(error)
          }; install stepbox's dependency "comlink"`,
          { cause: error },
        ),
      );
    }
  },
  env: (name: string) => process.env[name],
  cwd: () => process.cwd(),
  makeTempDirSync: (prefix: string) => mkdtempSync(join(tmpdir(), prefix)),
  writeTextFileSync: (path: string, text: string) =>
    writeFileSync(path, text, { mode: 0o600 }),
  removeSync(path: string) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Not there, or not ours to remove.
    }
  },
  remove: (path: string) =>
    rm(path, { recursive: true, force: true }).catch(() => {}),
  listen: (path: string) => new NodeListener(path),
  spawn: (command, args, env) => startChild(command, args, env, true),
  async run(command, args, env) {
    await startChild(command, args, env, false).status;
  },
  killGroup(pid: number, signal: HostSignal) {
    try {
      process.kill(-pid, signal);
    } catch {
      // Gone already.
    }
  },
});
