/**
 * Helpers the commands share: finding the step file, choosing the value source, and the
 * environment the sandbox may see.
 *
 * @module
 */

import { FileStore } from "../../values/file_store.ts";
import { PrefectClient } from "../../values/prefect_client.ts";
import type { ValueSource } from "../../values/value_source.ts";
import { UsageError } from "../args.ts";

/**
 * The step file to use: `file` when given, else `stepbox.yaml`, else `prefect.yaml` in `cwd`.
 *
 * @throws {UsageError} when no file is given and neither default exists.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findStepFile } from "./_shared.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/prefect.yaml`, "pull: []\n");
 *   assert.equal(await findStepFile(undefined, dir, "run"), "prefect.yaml");
 *   assert.equal(await findStepFile("flow.yaml", dir, "run"), "flow.yaml");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function findStepFile(
  file: string | undefined,
  cwd: string,
  topic: "run" | "validate",
): Promise<string> {
  if (file !== undefined) return file;
  for (const name of ["stepbox.yaml", "prefect.yaml"]) {
    try {
      const info = await Deno.stat(`${cwd}/${name}`);
      if (info.isFile) return name;
    } catch {
      // Try the next default.
    }
  }
  throw new UsageError(
    `No step file given, and neither "stepbox.yaml" nor "prefect.yaml" exists in ${cwd}; name one: "stepbox ${topic} FILE"`,
    topic,
  );
}

/**
 * The Prefect API when `PREFECT_API_URL` is set, else the embedded store.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseValues } from "./_shared.ts";
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

/** Variables passed to the sandbox as they are; never credentials such as PREFECT_API_KEY. */
const SANDBOX_ENV = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "TMP",
  "TEMP",
  "NO_COLOR",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "SYSTEMROOT",
  "SystemRoot",
  "COMSPEC",
  "PATHEXT",
  "WINDIR",
  "USERPROFILE",
  "APPDATA",
  "LOCALAPPDATA",
]);

/**
 * The environment the sandbox host sees: the harmless basics of the real one.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { sandboxEnv } from "./_shared.ts";
 * assert.deepEqual(
 *   sandboxEnv({ PATH: "/bin", LC_ALL: "C", PREFECT_API_KEY: "pnu_x", AWS_SECRET_ACCESS_KEY: "x" }),
 *   { PATH: "/bin", LC_ALL: "C" },
 * );
 * ```
 */
export function sandboxEnv(
  env: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (SANDBOX_ENV.has(name) || name.startsWith("LC_")) out[name] = value;
  }
  return out;
}
