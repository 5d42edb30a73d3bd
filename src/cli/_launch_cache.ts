/**
 * The CLI's launch cache. A run remembers the exact command of the first sandbox host it
 * started, under what identifies the run (its step file, section, isolation, permission flags and
 * import map, never `--set` values) and its working directory; the next such run starts a host
 * with that command at once, while it loads itself and reads the step file, instead of only
 * after.
 *
 * Nothing is trusted from the cache: the run works out its host's command as always and uses the
 * early host only if that command (flags, import map, environment, configuration) is exactly the
 * same; otherwise the early host is killed and the right one started. Until then the early host
 * has been told no step, so no step module runs in a host that was not checked. A stale entry
 * (an edited file that now grants less) costs one wasted process, never a wider sandbox.
 *
 * Entries live in `$STEPBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/stepbox/launch`, else
 * `$HOME/.cache/stepbox/launch`; `STEPBOX_LAUNCH_CACHE=0` turns the cache off. A directory or
 * entry that another user owns or may write to is ignored, like a malformed entry.
 *
 * @module
 */

import {
  type HostCommand,
  type HostLauncher,
  inlineImportMap,
  sameHostCommand,
  type SpawnedHost,
  spawnHost,
} from "../sandbox/_host_process.ts";
import { denoSystem } from "../sandbox/_system_deno.ts";

const FORMAT = 2;
// Entries beyond this many are removed, oldest first, when one is written.
const MAX_ENTRIES = 200;

/** A {@linkcode HostLauncher} that remembers the command it is first offered. */
export interface LaunchCache extends HostLauncher {
  /** Kills the early host if no run took it, and finishes writing the entry. */
  settle(): Promise<void>;
}

/** What a cache entry holds: a host command without the environment's values. */
interface Entry {
  format: number;
  key: string;
  command: Omit<HostCommand, "env">;
  envNames: string[];
}

/**
 * Opens the launch cache for one CLI run and, when it holds a command for this run's key,
 * starts that host at once. Never throws: without a usable cache the run goes on as usual.
 *
 * @param run What identifies the run (JSON): the options its host's command depends on.
 * @param cwd The directory the command works in.
 * @param env The environment (the cache's location; the early host's environment values).
 * @returns The cache, or `undefined` when it is off or has no usable directory.
 *
 * @example A run with the cache off
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLaunchCache } from "./_launch_cache.ts";
 * assert.equal(openLaunchCache({ file: "a.yaml" }, "/", { STEPBOX_LAUNCH_CACHE: "0" }), undefined);
 * ```
 */
export function openLaunchCache(
  run: unknown,
  cwd: string,
  env: Record<string, string>,
): LaunchCache | undefined {
  if (env.STEPBOX_LAUNCH_CACHE === "0") return undefined;
  const dir = cacheDir(env);
  if (dir === undefined) return undefined;
  let key: string;
  try {
    key = JSON.stringify([
      FORMAT,
      Deno.execPath(),
      Deno.version.deno,
      import.meta.url,
      cwd,
      run,
    ]);
  } catch {
    return undefined;
  }
  const file = `${dir}/${hash(key)}.json`;
  const entry = readEntry(dir, file, key);
  let early: { command: HostCommand; spawned: SpawnedHost } | undefined;
  if (entry !== undefined) {
    const command: HostCommand = { ...entry.command, env: {} };
    for (const name of entry.envNames) {
      const value = env[name];
      if (value !== undefined) command.env[name] = value;
    }
    try {
      early = { command, spawned: spawnHost(command, denoSystem) };
    } catch {
      // A command that no longer starts: the run starts its own host and rewrites the entry.
    }
  }
  let offered = false;
  const work: Promise<void>[] = [];

  function discardEarly(): void {
    if (early === undefined) return;
    const { child, listener, connection, dir: hostDir } = early.spawned;
    early = undefined;
    child.kill("SIGKILL");
    listener.close();
    work.push(
      connection.then((conn) => {
        try {
          conn.close();
        } catch {
          // Already closed by the host's end.
        }
      }, () => {}),
      child.status.then(() => denoSystem.remove(hostDir)),
    );
  }

  return {
    take(command) {
      if (offered) return undefined;
      offered = true;
      if (!sameEntry(entry, command)) {
        work.push(writeEntry(dir, file, key, command));
      }
      if (early !== undefined && sameHostCommand(early.command, command)) {
        const { spawned } = early;
        early = undefined;
        return spawned;
      }
      discardEarly();
      return undefined;
    },
    async settle() {
      discardEarly();
      await Promise.all(work);
    },
  };
}

function cacheDir(env: Record<string, string>): string | undefined {
  if (env.STEPBOX_CACHE_DIR) return env.STEPBOX_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/stepbox/launch`;
  if (env.HOME) return `${env.HOME}/.cache/stepbox/launch`;
  return undefined;
}

// cyrb53: a file name for the key; the entry holds the whole key, so a collision is a miss.
function hash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^
    Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^
    Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}

// Only the owner may have written the entry or its directory: a command line from the cache
// starts a process.
function ownedAndPrivate(path: string): boolean {
  const info = Deno.statSync(path);
  return info.uid === Deno.uid() && info.mode !== null &&
    (info.mode & 0o022) === 0;
}

function readEntry(
  dir: string,
  file: string,
  key: string,
): Entry | undefined {
  try {
    if (!ownedAndPrivate(file) || !ownedAndPrivate(dir)) return undefined;
    const entry = JSON.parse(Deno.readTextFileSync(file));
    return isEntry(entry, key) ? entry : undefined;
  } catch {
    return undefined;
  }
}

function isEntry(value: unknown, key: string): value is Entry {
  const entry = value as Partial<Entry> | null;
  if (entry?.format !== FORMAT || entry.key !== key) return false;
  const command = entry.command as Partial<HostCommand> | undefined;
  const config = command?.config as Record<string, unknown> | undefined;
  return command?.denoPath === Deno.execPath() &&
    typeof command.importMap === "string" &&
    Array.isArray(command.flags) &&
    command.flags.every((flag) =>
      typeof flag === "string" && /^--(allow|deny)-[a-z]+(=|$)/.test(flag)
    ) &&
    Number.isInteger(command.memoryMb) &&
    typeof config?.comlinkUrl === "string" &&
    config.comlinkUrl.startsWith("file:") &&
    typeof config.preparedIdleMs === "number" &&
    config.preload === undefined &&
    Array.isArray(entry.envNames) &&
    entry.envNames.every((name) => typeof name === "string");
}

function toEntry(key: string, command: HostCommand): Entry {
  const { env, config, ...rest } = command;
  const { preload: _preload, ...kept } = config;
  return {
    format: FORMAT,
    key,
    command: { ...rest, config: kept },
    envNames: Object.keys(env).sort(),
  };
}

function sameEntry(entry: Entry | undefined, command: HostCommand): boolean {
  if (entry === undefined) return false;
  const fresh = toEntry(entry.key, command);
  return JSON.stringify(fresh) === JSON.stringify(entry);
}

async function writeEntry(
  dir: string,
  file: string,
  key: string,
  command: HostCommand,
): Promise<void> {
  // An import map too large for the command line is not worth keeping.
  if (inlineImportMap(command.importMap) === undefined) return;
  // Written whole under a temporary name, then renamed: a reader sees the old entry or the new.
  const temporary = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(
      temporary,
      JSON.stringify(toEntry(key, command)),
      { mode: 0o600 },
    );
    await Deno.rename(temporary, file);
    await prune(dir);
  } catch {
    // A cache that cannot be written only makes the next run start as this one did.
    await Deno.remove(temporary).catch(() => {});
  }
}

async function prune(dir: string): Promise<void> {
  const paths: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    if (item.isFile && item.name.endsWith(".json")) {
      paths.push(`${dir}/${item.name}`);
    }
  }
  if (paths.length <= MAX_ENTRIES) return;
  const entries = await Promise.all(paths.map(async (path) => ({
    path,
    mtime: (await Deno.stat(path).catch(() => undefined))?.mtime?.getTime() ??
      0,
  })));
  entries.sort((a, b) => a.mtime - b.mtime);
  for (const { path } of entries.slice(0, entries.length - MAX_ENTRIES)) {
    await Deno.remove(path).catch(() => {});
  }
}
