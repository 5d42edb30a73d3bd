/**
 * The file calls of the helpers that read and write files themselves (`loadStepFile`,
 * `readImportMap`, `readProjectImports`, `FileStore`): Deno's file system API where there is
 * one, else Node's (`files_node.ts`, loaded on first use, only on Node). On a runtime with
 * neither (an edge function), they say so plainly instead of failing with "Deno is not defined".
 *
 * @module
 */

import { detectRuntime } from "./runtime.ts";

/** What a directory entry is. */
export interface DirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/** The file calls the helpers use, with Deno's meanings. */
export interface Files {
  cwd(): string;
  stat(
    path: string,
  ): Promise<{ isFile: boolean; isDirectory: boolean; size: number }>;
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(
    path: string,
    text: string,
    options?: { mode?: number; createNew?: boolean },
  ): Promise<void>;
  mkdir(
    path: string,
    options: { recursive: true; mode: number },
  ): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  readDir(path: string): AsyncIterable<DirEntry>;
  /** What a failed call's error means, when it is one of these. */
  kind(error: unknown): "not-found" | "exists" | "denied" | undefined;
}

/** What the messages say on a runtime with no file system API. */
export const NO_FILES =
  "this runtime has no file system API (neither Deno's nor Node's)";

function runtimeFiles(): "deno" | "node" | undefined {
  switch (detectRuntime()) {
    case "deno":
      return typeof (Deno as { readFile?: unknown }).readFile === "function"
        ? "deno"
        : undefined;
    case "node":
      return "node";
    default:
      return undefined;
  }
}

/**
 * Whether this runtime has a file system API the helpers can use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasFiles } from "./files.ts";
 * assert.equal(hasFiles(), true);
 * ```
 */
export function hasFiles(): boolean {
  return runtimeFiles() !== undefined;
}

const denoFiles: Files = {
  cwd: () => Deno.cwd(),
  stat: (path) => Deno.stat(path),
  readFile: (path) => Deno.readFile(path),
  readTextFile: (path) => Deno.readTextFile(path),
  writeTextFile: (path, text, options) =>
    Deno.writeTextFile(path, text, options),
  mkdir: (path, options) => Deno.mkdir(path, options),
  rename: (from, to) => Deno.rename(from, to),
  remove: (path) => Deno.remove(path),
  readDir: (path) => Deno.readDir(path),
  kind(error) {
    if (error instanceof Deno.errors.NotFound) return "not-found";
    if (error instanceof Deno.errors.AlreadyExists) return "exists";
    if (error instanceof Deno.errors.PermissionDenied) return "denied";
    return undefined;
  },
};

let nodeFiles: Promise<Files> | undefined;

/**
 * This runtime's file calls.
 *
 * @returns Deno's, or Node's once loaded.
 * @throws {Error} (as a rejection) on a runtime with neither, saying so ({@linkcode NO_FILES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { files } from "./files.ts";
 * const fs = await files();
 * assert.equal(typeof (await fs.stat(".")).isDirectory, "boolean");
 * ```
 */
export function files(): Promise<Files> {
  switch (runtimeFiles()) {
    case "deno":
      return Promise.resolve(denoFiles);
    case "node":
      nodeFiles ??= import("./files_node.ts").then((module) =>
        module.nodeFiles
      );
      return nodeFiles;
    default:
      return Promise.reject(new Error(NO_FILES));
  }
}
