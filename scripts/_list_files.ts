/**
 * The `.ts` files under a path of the repository, for the scripts that read every module.
 *
 * @module
 */

/**
 * Lists the `.ts` files at or under `path`, relative to `root`, sorted; a path that does not
 * exist lists nothing.
 *
 * @param root The repository root (a directory URL ending in `/`).
 * @param path A file, or a directory (with or without a trailing `/`).
 * @returns Paths such as `src/core/templating.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listFiles } from "./_list_files.ts";
 * const files = listFiles(new URL("../", import.meta.url), "scripts/");
 * assert.ok(files.includes("scripts/_list_files.ts"));
 * assert.deepEqual(listFiles(new URL("../", import.meta.url), "no-such-dir/"), []);
 * ```
 */
export function listFiles(root: URL, path: string): string[] {
  const url = new URL(path, root);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(url);
  } catch {
    return [];
  }
  if (info.isFile) return path.endsWith(".ts") ? [path] : [];
  const files: string[] = [];
  for (const entry of Deno.readDirSync(url)) {
    const child = `${path.replace(/\/?$/, "/")}${entry.name}`;
    files.push(...listFiles(root, entry.isDirectory ? `${child}/` : child));
  }
  return files.sort();
}
