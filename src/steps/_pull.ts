/**
 * Pulling code from a URL or path into a directory under the run's working directory:
 * archives (tar.gz, tar, zip) are unpacked, plain directories copied, every entry checked
 * first, and the result swapped into place only when complete.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { StepContext } from "../types.ts";
import { pathExists } from "./_fs.ts";
import { formatBytes } from "../_util/format_bytes.ts";
import {
  type ArchiveEntry,
  checkEntries,
  detectArchiveFormat,
  MAX_ARCHIVE_BYTES,
  readArchive,
  readAtMost,
  UnsafeArchiveError,
  writeEntries,
} from "./_archive.ts";

/** Options of {@linkcode pullCode}. */
export interface PullCodeOptions {
  /** The step's name, used in messages. */
  step: string;
  /** An `http(s)://` or `file://` URL, or a path relative to the run's working directory. */
  source: string;
  /** How messages name the source, quoted as it should appear (never with credentials). */
  label: string;
  /** HTTP request headers. @default {} */
  headers?: Record<string, string>;
  /** The target, relative to the run's working directory. @default derived from `source` as Prefect does */
  directory?: string;
  /** The run's working directory. */
  context: StepContext;
}

const ARCHIVE_EXTENSION = /\.(tar\.gz|tgz|tar|zip)$/i;

function fail(step: string, reason: string, cause?: unknown): Error {
  return new Error(
    `Cannot run ${step}: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * How messages should name a URL: without user info, query or fragment (they may hold secrets).
 *
 * @param source A URL or a path.
 * @returns The text to show.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceLabel } from "./_pull.ts";
 * assert.equal(sourceLabel("https://u:p@example.com/a.zip?sig=x"), "https://example.com/a.zip");
 * ```
 */
export function sourceLabel(source: string): string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source)) return source;
  try {
    const url = new URL(source);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "the given URL";
  }
}

type Source =
  | { kind: "http"; url: URL }
  | { kind: "path"; path: string; segments: string[] };

function parseSource(options: PullCodeOptions): Source {
  const { source, step, context } = options;
  if (
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(source) && !/^[A-Za-z]:[\\/]/.test(source)
  ) {
    let url: URL;
    try {
      url = new URL(source);
    } catch (error) {
      throw fail(step, `${options.label} is not a valid URL; fix it`, error);
    }
    if (url.protocol === "http:" || url.protocol === "https:") {
      return { kind: "http", url };
    }
    if (url.protocol === "file:") {
      if (url.host !== "" && url.host !== "localhost") {
        throw fail(
          step,
          `file URL ${options.label} names the host "${url.host}"; write file:///absolute/path`,
        );
      }
      const path = decodeURIComponent(url.pathname);
      return { kind: "path", path, segments: path.split("/") };
    }
    throw fail(
      step,
      `URL scheme "${url.protocol}" of ${options.label} is not supported; use an http, https or file URL, or a local path`,
    );
  }
  const path = resolve(context.workingDirectory, source);
  return { kind: "path", path, segments: source.split(/[/\\]/) };
}

/** Prefect's layout: `<host>/<path>` under the working directory, archive extension dropped. */
function defaultDirectory(
  step: string,
  source: Source,
  label: string,
  archive: boolean,
): string {
  const segments: string[] = [];
  const raw = source.kind === "http"
    ? [source.url.host, ...source.url.pathname.split("/")]
    : source.segments;
  for (const segment of raw) {
    let part = segment;
    try {
      part = decodeURIComponent(segment);
    } catch {
      // Keep it as written.
    }
    if (part === "" || part === ".") continue;
    if (part === ".." || /[/\\]/.test(part)) {
      throw fail(
        step,
        `cannot derive a target directory inside the working directory from ${label}; give the "directory" setting`,
      );
    }
    segments.push(part);
  }
  if (archive && segments.length > 0) {
    const last = segments.at(-1)!.replace(ARCHIVE_EXTENSION, "");
    if (last === "") segments.pop();
    else segments[segments.length - 1] = last;
  }
  if (segments.length === 0) {
    throw fail(
      step,
      `cannot derive a target directory from ${label}; give the "directory" setting`,
    );
  }
  return segments.join("/");
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "PermissionDenied" || error.name === "NotCapable");
}

/**
 * An error about reading the source. The runtime's own error is not attached: its message
 * repeats the URL or path, which may be secret (a block's data). Permission errors pass
 * through unchanged so the sandbox can report which grant is missing.
 */
function sourceError(
  step: string,
  label: string,
  error: unknown,
): Error {
  if (isPermissionError(error)) return error as Error;
  if (error instanceof Deno.errors.NotFound) {
    return fail(step, `${label} does not exist; check the URL or path`);
  }
  return fail(
    step,
    `cannot read ${label} (${
      error instanceof Error ? error.name : typeof error
    }); check the URL or path and its permissions`,
  );
}

async function fetchBytes(
  options: PullCodeOptions,
  url: URL,
): Promise<Uint8Array> {
  const headers = new Headers(options.headers ?? {});
  const target = new URL(url.href);
  if (target.username !== "" || target.password !== "") {
    // fetch() refuses user info in URLs; it becomes basic authentication.
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    if (!headers.has("authorization")) {
      headers.set("authorization", `Basic ${btoa(`${user}:${password}`)}`);
    }
    target.username = "";
    target.password = "";
  }
  let response: Response;
  try {
    response = await fetch(target, { headers });
  } catch (error) {
    if (isPermissionError(error)) throw error;
    // The runtime's message repeats the URL (with its query); show only the label.
    const message = (error as Error).message.replaceAll(
      target.href,
      options.label,
    )
      .replaceAll(url.href, options.label);
    throw fail(
      options.step,
      `cannot download ${options.label}: ${message}; check the URL and that the server is reachable`,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw fail(
      options.step,
      `cannot download ${options.label}: the server answered ${response.status} ${response.statusText}; check the URL and its access settings`,
    );
  }
  if (Number(response.headers.get("content-length")) > MAX_ARCHIVE_BYTES) {
    await response.body?.cancel();
    throw tooLarge(options.step, options.label);
  }
  if (response.body === null) return new Uint8Array();
  return await readAtMost(
    response.body,
    MAX_ARCHIVE_BYTES,
    () => tooLarge(options.step, options.label),
  );
}

function tooLarge(step: string, label: string): Error {
  return fail(
    step,
    `cannot unpack ${label}: it is larger than ${
      formatBytes(MAX_ARCHIVE_BYTES)
    }, the most stepbox unpacks; nothing was written`,
  );
}

async function walk(
  root: string,
  relativePath: string,
  entries: ArchiveEntry[],
): Promise<void> {
  for await (const item of Deno.readDir(join(root, relativePath))) {
    const path = relativePath === ""
      ? item.name
      : `${relativePath}/${item.name}`;
    const full = join(root, path);
    if (item.isSymlink) {
      entries.push({
        type: "symlink",
        path,
        target: await Deno.readLink(full),
      });
    } else if (item.isDirectory) {
      entries.push({ type: "directory", path });
      await walk(root, path, entries);
    } else if (item.isFile) {
      const info = await Deno.stat(full);
      entries.push({
        type: "file",
        path,
        source: full,
        mode: (info.mode ?? 0o644) & 0o777,
      });
    }
  }
}

/** The target must lie strictly below the working directory. */
function checkTarget(
  step: string,
  directory: string,
  context: StepContext,
): { target: string; inside: string } {
  const target = resolve(context.workingDirectory, directory);
  const inside = relative(context.workingDirectory, target);
  if (
    inside === "" || inside === ".." || inside.startsWith(`..${sep}`) ||
    resolve(context.workingDirectory, inside) !== target
  ) {
    throw fail(
      step,
      `the target directory "${directory}" is not inside the run's working directory "${context.workingDirectory}"; give a relative path below it`,
    );
  }
  return { target, inside };
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

/**
 * Pulls `source` into a directory under the run's working directory and returns that
 * directory, relative to the working directory. Archives (tar.gz, tar, zip, recognised by
 * their content) are unpacked; a local directory is copied. Every entry is checked before
 * anything is written (see `checkEntries`), the result is built in a hidden sibling directory
 * and moved into place when complete, replacing what was there; on any error nothing is left.
 *
 * @param options The source, its label, the target and the run's context.
 * @returns `{ directory }`, relative to the run's working directory.
 * @throws {Error} when the source cannot be read, is not an archive or directory, or is unsafe.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pullCode } from "./_pull.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/src/app`, { recursive: true });
 * await Deno.writeTextFile(`${root}/src/app/main.ts`, "x");
 * const context = { workingDirectory: root, env: {}, write() {} };
 * const result = await pullCode({ step: "example", source: "src/app", label: "src/app", directory: "copy", context });
 * assert.deepEqual(result, { directory: "copy" });
 * assert.equal(await Deno.readTextFile(`${root}/copy/main.ts`), "x");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function pullCode(
  options: PullCodeOptions,
): Promise<{ directory: string }> {
  const { step, label, context } = options;
  const source = parseSource(options);
  // A chosen target is checked before anything is downloaded.
  if (options.directory !== undefined) {
    checkTarget(step, options.directory, context);
  }
  let entries: ArchiveEntry[];
  let archive = true;
  let bytes: Uint8Array | undefined;
  if (source.kind === "http") {
    bytes = await fetchBytes(options, source.url);
  } else {
    try {
      const info = await Deno.stat(source.path);
      archive = !info.isDirectory;
      bytes = info.isDirectory || info.size > MAX_ARCHIVE_BYTES
        ? undefined
        : await Deno.readFile(source.path);
    } catch (error) {
      throw sourceError(step, label, error);
    }
    if (archive && bytes === undefined) throw tooLarge(step, label);
  }
  try {
    if (bytes !== undefined) {
      const format = detectArchiveFormat(bytes);
      if (format === undefined) {
        throw fail(
          step,
          `${label} is not a tar.gz, tar or zip archive; point it at an archive or a directory`,
        );
      }
      entries = checkEntries(await readArchive(bytes, format));
    } else {
      const found: ArchiveEntry[] = [];
      try {
        await walk((source as { path: string }).path, "", found);
      } catch (error) {
        throw sourceError(step, label, error);
      }
      entries = checkEntries(found);
    }
  } catch (error) {
    if (error instanceof UnsafeArchiveError) {
      throw fail(
        step,
        `cannot unpack ${label}: ${error.message}; nothing was written`,
        error,
      );
    }
    throw error;
  }

  const directory = options.directory ??
    defaultDirectory(step, source, label, archive);
  const { target, inside } = checkTarget(step, directory, context);

  const parentDirectory = dirname(target);
  let firstCreated: string | undefined;
  for (
    let dir = parentDirectory;
    dir !== context.workingDirectory;
    dir = dirname(dir)
  ) {
    if (!(await pathExists(dir))) firstCreated = dir;
    else break;
  }
  const staging = join(
    parentDirectory,
    `.${basename(target)}.partial-${randomSuffix()}`,
  );
  const old = join(
    parentDirectory,
    `.${basename(target)}.old-${randomSuffix()}`,
  );
  let moved = false;
  try {
    await Deno.mkdir(staging, { recursive: true });
    await writeEntries(entries, staging);
    if (await pathExists(target)) {
      await Deno.rename(target, old);
      moved = true;
    }
    await Deno.rename(staging, target);
    if (moved) await Deno.remove(old, { recursive: true }).catch(() => {});
  } catch (error) {
    if (moved && !(await pathExists(target))) {
      // Put the earlier pull back: a failed pull leaves things as they were.
      await Deno.rename(old, target).catch(() => {});
    }
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (firstCreated !== undefined) {
      await Deno.remove(firstCreated, { recursive: true }).catch(() => {});
    }
    throw fail(
      step,
      `cannot write "${directory}": ${
        (error as Error).message
      }; nothing was written`,
      error,
    );
  }
  return { directory: inside.split(sep).join("/") };
}
