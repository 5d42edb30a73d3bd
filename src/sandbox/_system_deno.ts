/**
 * The parent side of the sandbox on Deno: {@linkcode HostSystem} over the `Deno` namespace.
 *
 * @module
 */

import { SandboxError } from "../errors.ts";
import { sourceUrl } from "../_util/source_url.ts";
import { killGroup } from "./_command_groups.ts";
import type { HostChild, HostSignal, HostSystem } from "./_system.ts";

const COMLINK_BUILD = "npm:comlink@^4.4.2/dist/esm/comlink.mjs";

async function comlinkFileUrl(): Promise<string> {
  // comlink's ES module build as a file: URL, which the host loads as a plain local file. (The
  // package's main is a UMD file: loading that as CommonJS started Node compatibility and cost
  // every process ~18 ms.)
  const resolve = () => new URL(import.meta.resolve(COMLINK_BUILD));
  let resolved = resolve();
  if (resolved.protocol !== "file:") {
    // No node_modules directory: once loaded from Deno's npm cache, it resolves to its file
    // there. (A literal, so that Deno's module graph knows the package.)
    try {
      await import("npm:comlink@^4.4.2/dist/esm/comlink.mjs");
      resolved = resolve();
    } catch {
      // Reported below.
    }
  }
  const candidates = [
    resolved,
    sourceUrl("../node_modules/comlink/dist/esm/comlink.mjs"),
  ];
  for (const url of candidates) {
    if (url.protocol !== "file:") continue;
    try {
      Deno.statSync(url);
      return url.href;
    } catch {
      // Try the next place.
    }
  }
  throw new SandboxError(
    `Cannot find comlink's ES module build (tried ${
      candidates.map((url) => `"${url.href}"`).join(", ")
    }); run "deno install" in the stepbox directory so that node_modules/comlink exists`,
  );
}

function childOf(child: Deno.ChildProcess): HostChild {
  return {
    pid: child.pid,
    status: child.status,
    kill(signal: HostSignal) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    },
    stdout: child.stdout,
    stderr: child.stderr,
  };
}

/**
 * The host system on Deno.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoSystem } from "./_system_deno.ts";
 * assert.equal(denoSystem.denoPath(), Deno.execPath());
 * ```
 */
export const denoSystem: HostSystem = Object.freeze<HostSystem>({
  denoPath: () => Deno.execPath(),
  comlinkFileUrl,
  env(name: string) {
    try {
      return Deno.env.get(name);
    } catch {
      // No env permission: as if unset.
      return undefined;
    }
  },
  cwd() {
    try {
      return Deno.cwd();
    } catch {
      // No read permission.
      return undefined;
    }
  },
  makeTempDirSync: (prefix: string) => Deno.makeTempDirSync({ prefix }),
  writeTextFileSync: (path: string, text: string) =>
    Deno.writeTextFileSync(path, text),
  removeSync(path: string) {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Not there.
    }
  },
  remove: (path: string) =>
    Deno.remove(path, { recursive: true }).catch(() => {}),
  listen: (path: string) => Deno.listen({ transport: "unix", path }),
  spawn: (command, args, env) =>
    childOf(
      new Deno.Command(command, {
        args: [...args],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    ),
  async run(command, args, env) {
    try {
      await new Deno.Command(command, {
        args: [...args],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
    } catch {
      // Whoever needed it reports what is wrong.
    }
  },
  killGroup,
});
