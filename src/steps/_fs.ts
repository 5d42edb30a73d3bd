/**
 * File-system helpers shared by the built-in steps.
 *
 * @module
 */

/**
 * Whether anything (file, directory or link, without following it) is at `path`.
 *
 * @param path The path to look at.
 * @returns `true` when something is there, `false` when nothing is.
 * @throws {Error} any failure other than "not found" (e.g. a denied permission).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./_fs.ts";
 * assert.equal(await pathExists(Deno.cwd()), true);
 * assert.equal(await pathExists(`${Deno.cwd()}/no-such-entry-here`), false);
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
