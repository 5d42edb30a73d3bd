/**
 * POSIX path arithmetic without the file system: pure, for every layer.
 *
 * @module
 */

/**
 * `path` (absolute) with `.`, `..` and repeated slashes resolved, without touching the disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizePosixPath } from "./posix_path.ts";
 * assert.equal(normalizePosixPath("/a//b/./c/../d/"), "/a/b/d");
 * assert.equal(normalizePosixPath("/.."), "/");
 * ```
 */
export function normalizePosixPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Whether `path` is `root` itself or inside it (both absolute, normalised).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWithinPosixPath } from "./posix_path.ts";
 * assert.equal(isWithinPosixPath("/data", "/data/a.csv"), true);
 * assert.equal(isWithinPosixPath("/data", "/database"), false);
 * assert.equal(isWithinPosixPath("/", "/etc"), true);
 * ```
 */
export function isWithinPosixPath(root: string, path: string): boolean {
  return path === root ||
    path.startsWith(root.endsWith("/") ? root : `${root}/`);
}
