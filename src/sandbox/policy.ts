/**
 * Permission mapping for the sandbox: stepbox {@linkcode Permissions} -> the `deno.permissions`
 * of a Worker (every key set, deny unless granted), and the ceiling -> the sandbox host's own
 * command-line flags. Pure: no I/O.
 *
 * @module
 */

import { isWithinPosixPath, normalizePosixPath } from "../_util/posix_path.ts";
import { PolicyError } from "../errors.ts";
import {
  PERMISSION_NAMES,
  type PermissionName,
  type Permissions,
  type PermissionValue,
} from "../types.ts";

/** One key of a Worker's `deno.permissions`: all, none, or a list of allowed values. */
export type WorkerPermissionValue = boolean | string[];

/**
 * A Worker's `deno.permissions` with EVERY key present. Deno treats an absent key (or an empty
 * object) as "inherit the parent's permission", so a missing key would widen the grant.
 */
export type WorkerPermissions = Record<PermissionName, WorkerPermissionValue>;

/**
 * Maps the permissions granted to a step to a Worker's `deno.permissions`, with every key set
 * explicitly: a kind that is absent or `false` is denied, `true` is granted, a list is copied.
 *
 * Deno 2.9.6 does not honour `import` on a Worker (denoland/deno#29503): imports are checked
 * against the host process instead, so the sandbox host's `--allow-import` carries a step's
 * `import` grant (see {@linkcode hostPermissionFlags}).
 *
 * @param granted The permissions granted to the step call, already checked against the ceiling.
 * @returns A fresh object with all eight keys.
 * @throws {PolicyError} when a kind is unknown or a value is neither a boolean nor a list of strings.
 *
 * @example Every key is set, deny unless granted
 * ```ts
 * import assert from "node:assert/strict";
 * import { toWorkerPermissions } from "./policy.ts";
 * assert.deepEqual(toWorkerPermissions({ read: ["/data"], net: true }), {
 *   read: ["/data"], write: false, net: true, env: false,
 *   run: false, sys: false, ffi: false, import: false,
 * });
 * ```
 */
export function toWorkerPermissions(granted: Permissions): WorkerPermissions {
  if (
    typeof granted !== "object" || granted === null || Array.isArray(granted)
  ) {
    throw new PolicyError(
      `Cannot use permissions ${
        JSON.stringify(granted) ?? String(granted)
      }: expected a mapping of kinds (${
        PERMISSION_NAMES.join(", ")
      }) to true, false or a list`,
    );
  }
  for (const name of Object.keys(granted)) {
    if (!(PERMISSION_NAMES as readonly string[]).includes(name)) {
      throw new PolicyError(
        `Cannot use permission "${name}": it is not a permission kind; use one of ${
          PERMISSION_NAMES.map((kind) => `"${kind}"`).join(", ")
        }`,
      );
    }
  }
  const result = {} as WorkerPermissions;
  for (const name of PERMISSION_NAMES) {
    result[name] = normalize(name, granted[name]);
  }
  return result;
}

/** Options of {@linkcode hostPermissionFlags}. */
export interface HostPermissionFlagsOptions {
  /** Paths the host itself must read (its worker entry, comlink, step module directories). @default [] */
  read?: readonly string[];
  /** Paths the host itself must write (its private socket). @default [] */
  write?: readonly string[];
  /** Addresses the host itself must connect to (`unix:<socket path>`). @default [] */
  net?: readonly string[];
  /** Hosts (`host` or `host:port`) that modules may be imported from, besides the ceiling's. @default [] */
  import?: readonly string[];
}

/**
 * A sentinel import host that matches nothing: Deno allows a default list of CDNs when no
 * `--allow-import` flag is given, so an empty list must still be passed as a flag.
 */
export const NO_IMPORT_HOST = "127.0.0.1:0";

/**
 * The sandbox host's own permission flags: the run's ceiling, plus what the host needs to load
 * modules for its workers. A Worker can never exceed these, so they are the second wall.
 * `--allow-import` is always present (limited to the mapped hosts), because without it Deno
 * allows imports from a built-in list of CDNs.
 *
 * @param ceiling The run's permission ceiling (the policy's `allow`).
 * @param options What the host itself needs beyond the ceiling.
 * @returns `deno run` flags such as `--allow-read=/a,/b`.
 * @throws {PolicyError} when a value is malformed or a list item contains a comma (Deno's list separator).
 *
 * @example The ceiling plus the host's own needs
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostPermissionFlags } from "./policy.ts";
 * assert.deepEqual(
 *   hostPermissionFlags({ net: ["api.example.com"], env: true }, { read: ["/app/src"], import: ["esm.sh"] }),
 *   ["--allow-read=/app/src", "--allow-net=api.example.com", "--allow-env", "--allow-import=esm.sh"],
 * );
 * ```
 */
export function hostPermissionFlags(
  ceiling: Permissions,
  options: HostPermissionFlagsOptions = {},
): string[] {
  const extra: Partial<Record<PermissionName, readonly string[]>> = {
    read: options.read ?? [],
    write: options.write ?? [],
    net: options.net ?? [],
    import: options.import ?? [],
  };
  const flags: string[] = [];
  for (const name of PERMISSION_NAMES) {
    const value = normalize(name, ceiling[name]);
    const added = extra[name] ?? [];
    if (value === true) {
      flags.push(`--allow-${name}`);
      continue;
    }
    const list = unique([...(value === false ? [] : value), ...added]);
    for (const item of list) {
      if (item.includes(",")) {
        throw new PolicyError(
          `Cannot pass ${name} permission "${item}" to the sandbox host: it contains a comma, which Deno uses to separate list items; rename the path or grant the parent directory`,
        );
      }
    }
    if (name === "import") {
      flags.push(
        `--allow-import=${list.length > 0 ? list.join(",") : NO_IMPORT_HOST}`,
      );
    } else if (list.length > 0) {
      flags.push(`--allow-${name}=${list.join(",")}`);
    }
  }
  return flags;
}

/**
 * The hosts (`host:port`) of the remote (`http:`/`https:`) URLs among `specifiers`, in the form
 * `--allow-import` expects. Other specifiers (`file:`, `npm:`, `data:`) are skipped.
 *
 * @example Hosts of an import map's targets
 * ```ts
 * import assert from "node:assert/strict";
 * import { importHosts } from "./policy.ts";
 * assert.deepEqual(
 *   importHosts(["https://esm.sh/slugify@1", "http://127.0.0.1:8000/a.js", "npm:yaml@2", "file:///a.ts"]),
 *   ["esm.sh:443", "127.0.0.1:8000"],
 * );
 * ```
 */
export function importHosts(specifiers: Iterable<string>): string[] {
  const hosts = new Set<string>();
  for (const specifier of specifiers) {
    if (!/^https?:\/\//i.test(specifier)) continue;
    try {
      const url = new URL(specifier);
      const port = url.port !== ""
        ? url.port
        : url.protocol === "https:"
        ? "443"
        : "80";
      hosts.add(`${url.hostname}:${port}`);
    } catch {
      // An unparsable URL cannot be imported anyway; the load reports it.
    }
  }
  return [...hosts];
}

/**
 * What a `pool` Worker is granted on top of its step's permissions so that it can connect to its
 * lane socket (Deno asks for read, write and `net` of `unix:<path>`), each revoked once it is
 * connected. A kind the step's own permissions already cover is left out: revoking a path also
 * revokes a granted directory above it, which would take from the step what it was given.
 */
export interface LaneGrant {
  read?: string;
  write?: string;
  net?: string;
}

/**
 * The {@linkcode LaneGrant} of a Worker with `granted` permissions whose lane is `socket`.
 *
 * @param granted The step's permissions.
 * @param socket The lane socket's absolute path.
 * @param cwd The directory relative permission paths are resolved against (the host's working
 *   directory); `undefined` when unknown, and a relative path then counts as covering the socket
 *   (a Worker that cannot connect fails its call; a revoke too many would quietly narrow it).
 * @returns What to add, then revoke.
 *
 * @example A step that may read its data directory gets the socket on every kind
 * ```ts
 * import assert from "node:assert/strict";
 * import { laneGrant } from "./policy.ts";
 * const socket = "/tmp/stepbox-host-1/host.sock.lane0";
 * assert.deepEqual(laneGrant({ read: ["/data"] }, socket, "/app"), {
 *   read: socket, write: socket, net: `unix:${socket}`,
 * });
 * assert.deepEqual(laneGrant({ read: ["../tmp"], write: true }, socket, "/app"), {
 *   net: `unix:${socket}`,
 * });
 * ```
 */
export function laneGrant(
  granted: Permissions,
  socket: string,
  cwd: string | undefined,
): LaneGrant {
  const grant: LaneGrant = {};
  for (const name of ["read", "write"] as const) {
    const value = granted[name];
    const covered = value === true ||
      (Array.isArray(value) &&
        value.some((item) => pathCovers(item, socket, cwd)));
    if (!covered) grant[name] = socket;
  }
  const host = `unix:${socket}`;
  const net = granted.net;
  if (!(net === true || (Array.isArray(net) && net.includes(host)))) {
    grant.net = host;
  }
  return grant;
}

/**
 * `permissions` with `grant` added to its lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toWorkerPermissions, withLaneGrant } from "./policy.ts";
 * const permissions = withLaneGrant(toWorkerPermissions({ read: ["/data"] }), { read: "/s", net: "unix:/s" });
 * assert.deepEqual(permissions.read, ["/data", "/s"]);
 * assert.deepEqual(permissions.net, ["unix:/s"]);
 * assert.equal(permissions.write, false);
 * ```
 */
export function withLaneGrant(
  permissions: WorkerPermissions,
  grant: LaneGrant,
): WorkerPermissions {
  const result = { ...permissions };
  for (const name of ["read", "write", "net"] as const) {
    const item = grant[name];
    const value = result[name];
    if (item === undefined || value === true) continue;
    result[name] = [...(value === false ? [] : value), item];
  }
  return result;
}

/** A grant a lane's Worker drops once connected, as `Deno.permissions.revoke` takes it. */
export type RevokeDescriptor =
  | { name: "read" | "write"; path: string }
  | { name: "net"; host: string };

/**
 * The descriptors a Worker passes to `Deno.permissions.revoke` to drop `grant`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { laneRevocations } from "./policy.ts";
 * assert.deepEqual(laneRevocations({ write: "/s", net: "unix:/s" }), [
 *   { name: "write", path: "/s" },
 *   { name: "net", host: "unix:/s" },
 * ]);
 * ```
 */
export function laneRevocations(grant: LaneGrant): RevokeDescriptor[] {
  const descriptors: RevokeDescriptor[] = [];
  if (grant.read !== undefined) {
    descriptors.push({ name: "read", path: grant.read });
  }
  if (grant.write !== undefined) {
    descriptors.push({ name: "write", path: grant.write });
  }
  if (grant.net !== undefined) {
    descriptors.push({ name: "net", host: grant.net });
  }
  return descriptors;
}

// Whether a granted path covers `path` (itself or a directory above it), as Deno matches them.
function pathCovers(
  granted: string,
  path: string,
  cwd: string | undefined,
): boolean {
  if (!granted.startsWith("/") && cwd === undefined) return true;
  const root = normalizePosixPath(
    granted.startsWith("/") ? granted : `${cwd}/${granted}`,
  );
  return isWithinPosixPath(root, path);
}

function normalize(
  name: PermissionName,
  value: PermissionValue | undefined,
): WorkerPermissionValue {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return [...value];
  }
  throw new PolicyError(
    `Cannot use permission "${name}": expected true, false or a list of strings, found ${
      JSON.stringify(value) ?? String(value)
    }; write e.g. "${name}: true" or "${name}: [...]"`,
  );
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
