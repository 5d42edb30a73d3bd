/**
 * Helpers the commands share: finding the step file, and the environment the sandbox may see.
 * (The value source is chosen in `_values.ts`, loaded only by a run that reads values.)
 *
 * @module
 */

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
