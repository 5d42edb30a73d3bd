/**
 * {@linkcode Files} on Node, over `node:fs/promises`, with Deno's meanings (`createNew`, a
 * directory listing's entry kinds, the error kinds).
 *
 * @module
 */

import {
  mkdir,
  opendir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import process from "node:process";
import type { DirEntry, Files } from "./files.ts";

/**
 * The file calls on Node.
 *
 * @example
 * ```ts ignore
 * import { nodeFiles } from "./files_node.ts";
 * const text = await nodeFiles.readTextFile("flow.yaml");
 * ```
 */
export const nodeFiles: Files = {
  cwd: () => process.cwd(),
  async stat(path) {
    const info = await stat(path);
    return {
      isFile: info.isFile(),
      isDirectory: info.isDirectory(),
      size: info.size,
    };
  },
  readFile: async (path) => new Uint8Array(await readFile(path)),
  readTextFile: (path) => readFile(path, "utf8"),
  async writeTextFile(path, text, options = {}) {
    await writeFile(path, text, {
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      flag: options.createNew ? "wx" : "w",
    });
  },
  async mkdir(path, options) {
    await mkdir(path, options);
  },
  rename: (from, to) => rename(from, to),
  // The helpers remove files only.
  remove: (path) => rm(path),
  async *readDir(path): AsyncIterable<DirEntry> {
    for await (const entry of await opendir(path)) {
      yield {
        name: entry.name,
        isFile: entry.isFile(),
        isDirectory: entry.isDirectory(),
      };
    }
  },
  kind(error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ENOENT") return "not-found";
    if (code === "EEXIST") return "exists";
    if (code === "EACCES" || code === "EPERM") return "denied";
    return undefined;
  },
};
