/**
 * Reads a step file from disk and parses it, with a size cap, and works out the `baseUrl` that
 * its relative module references resolve against: the file's own directory, never the process's.
 *
 * @module
 */

import { type Files, files } from "../_util/files.ts";
import { formatBytes } from "../_util/format_bytes.ts";
import { normalizePosixPath } from "../_util/posix_path.ts";
import { StepFileError } from "../errors.ts";
import { parseStepFile, type StepFile } from "../core/parse_step_file.ts";

/** Options of {@linkcode loadStepFile}. */
export interface LoadStepFileOptions {
  /** The directory a relative `path` is taken from (absolute). @default the process's working directory */
  cwd?: string;
  /** The largest file accepted, in bytes. @default 16777216 (16 MiB) */
  maxBytes?: number;
  /** The name used in messages. @default `path` as given */
  displayName?: string;
}

/** A step file loaded from disk. */
export interface LoadedStepFile extends StepFile {
  /** The absolute path of the file. */
  readonly path: string;
  /** The file's directory as a `file:` URL ending in `/`: where `./x.ts#f` references resolve. */
  readonly baseUrl: string;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads and parses a step file (YAML or JSON).
 *
 * @param path The file's path, absolute or relative to `options.cwd`.
 * @param options Where relative paths start, the size cap and the display name.
 * @returns The parsed file with its absolute path and `baseUrl`.
 * @throws {StepFileError} when the file is missing, unreadable, not a regular file, larger
 * than `maxBytes`, not UTF-8 text, or does not parse.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadStepFile } from "./load_step_file.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/steps.yaml`, "- ./greet.ts#greet:\n    name: Ada\n");
 *   const file = await loadStepFile("steps.yaml", { cwd: dir });
 *   assert.equal(file.baseUrl, new URL(`file://${dir}/`).href);
 *   assert.equal(file.steps.length, 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadStepFile(
  path: string,
  options: LoadStepFileOptions = {},
): Promise<LoadedStepFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const name = options.displayName ?? path;
  let fs: Files;
  try {
    fs = await files();
  } catch (error) {
    throw new StepFileError(
      `Cannot read step file "${name}": ${
        (error as Error).message
      }; read it yourself and pass its text to parseStepFile()`,
      { file: name },
    );
  }
  const absolute = resolvePath(options.cwd ?? fs.cwd(), path);
  let info: { isFile: boolean; isDirectory: boolean; size: number };
  try {
    info = await fs.stat(absolute);
  } catch (error) {
    throw new StepFileError(
      fs.kind(error) === "not-found"
        ? `Cannot read step file "${name}": it does not exist; check the path, or create it`
        : `Cannot read step file "${name}": ${messageOf(fs, error)}`,
      { file: name },
      { cause: error },
    );
  }
  if (!info.isFile) {
    throw new StepFileError(
      `Cannot read step file "${name}": it is ${
        info.isDirectory ? "a directory" : "not a regular file"
      }; name a YAML or JSON file`,
      { file: name },
    );
  }
  if (info.size > maxBytes) {
    throw new StepFileError(
      `Cannot read step file "${name}": it is ${
        formatBytes(info.size)
      }, more than the limit of ${
        formatBytes(maxBytes)
      }; split it into smaller files`,
      { file: name },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(fs, absolute, maxBytes);
  } catch (error) {
    if (error instanceof StepFileError) {
      throw new StepFileError(
        `Cannot read step file "${name}": ${error.reason}`,
        { file: name },
      );
    }
    throw new StepFileError(
      `Cannot read step file "${name}": ${messageOf(fs, error)}`,
      { file: name },
      { cause: error },
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      bytes,
    );
  } catch (error) {
    throw new StepFileError(
      `Cannot read step file "${name}": it is not UTF-8 text; save it as UTF-8`,
      { file: name },
      { cause: error },
    );
  }
  const parsed = await parseStepFile(text, { file: name });
  const directory = absolute.slice(0, absolute.lastIndexOf("/") + 1);
  return Object.freeze({
    file: parsed.file,
    form: parsed.form,
    steps: parsed.steps,
    sections: parsed.sections,
    document: parsed.document,
    locate: parsed.locate,
    path: absolute,
    baseUrl: toFileUrl(directory).href,
  });
}

/** Reads the file, and checks the size again: it may have grown since stat(). */
async function readCapped(
  fs: Files,
  path: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const bytes = await fs.readFile(path);
  if (bytes.length > maxBytes) {
    throw new StepFileError(
      `it is more than the limit of ${
        formatBytes(maxBytes)
      }; split it into smaller files`,
    );
  }
  return bytes;
}

function resolvePath(cwd: string, path: string): string {
  if (path.startsWith("file:")) {
    return decodeURIComponent(new URL(path).pathname);
  }
  return normalizePosixPath(path.startsWith("/") ? path : `${cwd}/${path}`);
}

function toFileUrl(path: string): URL {
  const url = new URL("file:///");
  url.pathname = path.split("/").map(encodeURIComponent).join("/");
  return url;
}

function messageOf(fs: Files, error: unknown): string {
  if (fs.kind(error) === "denied") {
    return "permission denied; check the file's permissions";
  }
  return error instanceof Error ? error.message : String(error);
}
