/**
 * Byte counts as people read them, for messages.
 *
 * @module
 */

const UNITS = [
  ["GiB", 1024 ** 3],
  ["MiB", 1024 ** 2],
  ["KiB", 1024],
] as const;

/**
 * `bytes` in the largest binary unit it reaches, to one decimal without a trailing `.0`.
 *
 * @param bytes The count.
 * @returns The text: `1 GiB`, `1.5 KiB`, `100 bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./format_bytes.ts";
 * assert.equal(formatBytes(1024 ** 3), "1 GiB");
 * assert.equal(formatBytes(1536), "1.5 KiB");
 * assert.equal(formatBytes(100), "100 bytes");
 * ```
 */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of UNITS) {
    if (bytes >= size) {
      return `${(bytes / size).toFixed(1).replace(/\.0$/, "")} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}
