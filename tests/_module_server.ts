/**
 * A local esm.sh-style module server for tests: 127.0.0.1 on a random port, serving the fixture
 * packages under tests/fixtures/cdn/<name>@<version>/ at `/<name>@<range>[/path]` with semver
 * range resolution, proper content types and 404s. Tests start and stop it themselves.
 *
 * @module
 */

/** Options of {@linkcode startModuleServer}. */
export interface ModuleServerOptions {
  /** The directory of `<name>@<version>/` package folders. @default tests/fixtures/cdn/ */
  root?: URL;
  /** Extra files by exact path (`/broken@1.0.0/mod.js` -> source), e.g. modules that do not parse. */
  files?: Record<string, string>;
}

/** A running module server. */
export interface ModuleServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `127.0.0.1:<port>`, as `--allow-import` and `permissions.import` write it. */
  readonly host: string;
  /** Every requested path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".js": "application/javascript; charset=utf-8",
  ".mjs": "application/javascript; charset=utf-8",
  ".ts": "application/typescript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
};

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  return match
    ? [Number(match[1]), Number(match[2]), Number(match[3])]
    : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

// One comparator: "^1.2.3", "~1.2", ">=1.0.0", "<2", "1.x", "1.2.3", "*".
function comparator(text: string): (v: Version) => boolean {
  const match =
    /^(\^|~|>=|<=|>|<|=)?v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/
      .exec(text);
  if (text === "" || text === "*" || text === "latest") return () => true;
  if (!match) throw new RangeError(`Invalid version range part "${text}"`);
  const op = match[1] ?? "";
  const parts = [match[2], match[3], match[4]].map((p) =>
    p === undefined || p === "x" || p === "*" ? undefined : Number(p)
  );
  const [major, minor, patch] = parts;
  const base: Version = [major ?? 0, minor ?? 0, patch ?? 0];
  const next = (): Version =>
    minor === undefined
      ? [(major ?? 0) + 1, 0, 0]
      : patch === undefined
      ? [major ?? 0, minor + 1, 0]
      : [major ?? 0, minor, patch + 1];
  switch (op) {
    case "^": {
      const upper: Version = base[0] > 0
        ? [base[0] + 1, 0, 0]
        : base[1] > 0
        ? [0, base[1] + 1, 0]
        : minor === undefined
        ? [1, 0, 0]
        : [0, 0, base[2] + 1];
      return (v) => compare(v, base) >= 0 && compare(v, upper) < 0;
    }
    case "~": {
      const upper: Version = minor === undefined
        ? [base[0] + 1, 0, 0]
        : [base[0], base[1] + 1, 0];
      return (v) => compare(v, base) >= 0 && compare(v, upper) < 0;
    }
    case ">=":
      return (v) => compare(v, base) >= 0;
    case ">":
      return (v) => compare(v, next()) >= 0;
    case "<=":
      return (v) => compare(v, next()) < 0;
    case "<":
      return (v) => compare(v, base) < 0;
    default: {
      const upper = next();
      return (v) => compare(v, base) >= 0 && compare(v, upper) < 0;
    }
  }
}

/**
 * The highest of `versions` that satisfies `range` (npm semver syntax: `^`, `~`, comparators,
 * `x` ranges, spaces for AND, `||` for OR), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxSatisfying } from "./_module_server.ts";
 * assert.equal(maxSatisfying(["1.0.0", "1.2.0", "2.0.0"], "^1.0.0"), "1.2.0");
 * assert.equal(maxSatisfying(["1.0.0", "1.2.0", "2.0.0"], ">=1.1 <2"), "1.2.0");
 * assert.equal(maxSatisfying(["1.0.0"], "^2"), undefined);
 * ```
 */
export function maxSatisfying(
  versions: readonly string[],
  range: string,
): string | undefined {
  const alternatives = range.split("||").map((part) =>
    part.trim().split(/\s+/).filter((item) => item !== "").map(comparator)
  );
  let best: [string, Version] | undefined;
  for (const text of versions) {
    const version = parseVersion(text);
    if (version === undefined) continue;
    const ok = alternatives.some((all) => all.every((test) => test(version)));
    if (ok && (best === undefined || compare(version, best[1]) > 0)) {
      best = [text, version];
    }
  }
  return best?.[0];
}

async function packageVersions(root: URL): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for await (const entry of Deno.readDir(root)) {
    const at = entry.name.lastIndexOf("@");
    if (!entry.isDirectory || at <= 0) continue;
    const name = entry.name.slice(0, at);
    const list = result.get(name) ?? [];
    list.push(entry.name.slice(at + 1));
    result.set(name, list);
  }
  return result;
}

function typeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return CONTENT_TYPES[dot < 0 ? "" : path.slice(dot)] ??
    "application/octet-stream";
}

/**
 * Starts the module server on 127.0.0.1 and a random port.
 *
 * @example Serving a package by range
 * ```ts
 * import assert from "node:assert/strict";
 * import { startModuleServer } from "./_module_server.ts";
 * await using server = await startModuleServer();
 * const response = await fetch(`${server.origin}/shouty@^1.0.0`);
 * assert.equal(response.headers.get("content-type"), "application/javascript; charset=utf-8");
 * assert.match(await response.text(), /1\.2\.0/);
 * const missing = await fetch(`${server.origin}/nothing@1.0.0`);
 * assert.equal(missing.status, 404);
 * await missing.body?.cancel();
 * ```
 */
export async function startModuleServer(
  options: ModuleServerOptions = {},
): Promise<ModuleServer> {
  const root = options.root ?? new URL("./fixtures/cdn/", import.meta.url);
  const versions = await packageVersions(root);
  const files = options.files ?? {};
  const requests: string[] = [];
  const notFound = (why: string) =>
    new Response(`Not found: ${why}\n`, {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });

  async function handle(request: Request): Promise<Response> {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requests.push(path);
    if (Object.hasOwn(files, path)) {
      return new Response(files[path], {
        headers: { "content-type": typeOf(path) },
      });
    }
    // /<name>@<range>[/path], the name possibly scoped (@scope/name@range).
    const match = /^\/((?:@[^/]+\/)?[^/@]+)@([^/]+)(\/.*)?$/.exec(path);
    if (!match) return notFound(`"${path}" is not /<name>@<version>[/path]`);
    const [, name, range, rest] = match;
    let version: string | undefined;
    try {
      version = maxSatisfying(versions.get(name!) ?? [], range!);
    } catch (error) {
      return notFound((error as Error).message);
    }
    if (version === undefined) {
      return notFound(`no version of "${name}" satisfies "${range}"`);
    }
    const file = rest === undefined || rest === "/" ? "/mod.js" : rest;
    if (file.includes("..")) return notFound(`"${file}" leaves the package`);
    try {
      const body = await Deno.readFile(
        new URL(`./${name}@${version}${file}`, root),
      );
      return new Response(body, { headers: { "content-type": typeOf(file) } });
    } catch {
      return notFound(`"${name}@${version}" has no "${file}"`);
    }
  }

  let port = 0;
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen(address) {
      port = address.port;
      listening.resolve();
    },
  }, handle);
  await listening.promise;
  const close = async () => {
    await server.shutdown();
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
