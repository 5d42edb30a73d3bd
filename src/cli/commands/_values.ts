/**
 * The value source of a run: the Prefect API when `PREFECT_API_URL` is set, else the embedded
 * store.
 *
 * @module
 */

import { FileStore } from "../../values/file_store.ts";
import { PrefectClient } from "../../values/prefect_client.ts";
import type { ValueSource } from "../../values/value_source.ts";

/**
 * The Prefect API when `PREFECT_API_URL` is set, else the embedded store.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseValues } from "./_values.ts";
 * assert.equal(chooseValues("/srv", {}).describe, "the store /srv/.stepbox");
 * assert.equal(
 *   chooseValues("/srv", { PREFECT_API_URL: "http://127.0.0.1:4200/api" }).describe,
 *   "the Prefect API (PREFECT_API_URL)",
 * );
 * ```
 */
export function chooseValues(
  cwd: string,
  env: Record<string, string>,
  signal?: AbortSignal,
): ValueSource & { describe: string } {
  const apiUrl = env.PREFECT_API_URL;
  if (apiUrl !== undefined && apiUrl !== "") {
    const client = new PrefectClient({
      apiUrl,
      ...(env.PREFECT_API_KEY ? { apiKey: env.PREFECT_API_KEY } : {}),
      ...(signal !== undefined ? { signal } : {}),
    });
    return {
      describe: "the Prefect API (PREFECT_API_URL)",
      variable: (name) => client.variable(name),
      blockByName: (slug, name) => client.blockByName(slug, name),
      blockById: (id) => client.blockById(id),
    };
  }
  const store = FileStore.fromEnvironment({ cwd, env });
  return {
    describe: `the store ${store.directory}`,
    variable: (name) => store.variable(name),
    blockByName: (slug, name) => store.blockByName(slug, name),
    blockById: (id) => store.blockById(id),
  };
}
