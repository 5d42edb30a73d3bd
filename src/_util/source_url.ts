// Portable: no runtime APIs.
/**
 * Where the library's TypeScript sources are. A sandbox host is always `deno run`, and it runs
 * the host and the built-in steps from these sources, whichever runtime the parent is on. In
 * source, this module is `src/_util/source_url.ts`; in the npm build it is bundled into a
 * module of `dist/`, and the package ships `src/` beside `dist/`.
 *
 * @module
 */

const SOURCE_ROOT = new URL(
  import.meta.url.endsWith(".ts") ? "../" : "../src/",
  import.meta.url,
);

/**
 * The URL of a file of the library's sources, by its path under `src/`.
 *
 * @param path The path under `src/`, e.g. `"steps/run_shell_script.ts"`.
 * @returns Its absolute URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceUrl } from "./source_url.ts";
 * assert.match(sourceUrl("sandbox/host_entry.ts").href, /\/src\/sandbox\/host_entry\.ts$/);
 * ```
 */
export function sourceUrl(path: string): URL {
  return new URL(path, SOURCE_ROOT);
}
