/**
 * The `pull_from_remote_storage` built-in step, compatible with Prefect's
 * `prefect.deployments.steps.pull_from_remote_storage` for http(s) and file locations.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import { stepContext } from "./_context.ts";
import { checkInputs, describeType } from "./_inputs.ts";
import { pullCode, sourceLabel } from "./_pull.ts";

const STEP = "pull_from_remote_storage";

/** The inputs of {@linkcode pull_from_remote_storage}: Prefect's `url` and the settings stepbox supports. */
export interface PullFromRemoteStorageInputs {
  /** An `http(s)://` or `file://` URL (or a local path) of a tar.gz, tar or zip archive, or of a directory (file only). */
  url: string;
  /** HTTP request headers, e.g. `Authorization`. @default {} */
  headers?: Record<string, string>;
  /** The target, relative to the run's working directory. @default `<host>/<path>` of the URL, archive extension dropped */
  directory?: string;
}

/**
 * Pulls code into a directory under the run's working directory and returns that directory,
 * relative to the working directory. As in Prefect, the directory is laid out as the URL's
 * host followed by its path (`http://host:8000/code/app.tar.gz` -> `host:8000/code/app`;
 * `file:///srv/code` -> `srv/code`); the `directory` setting chooses another one.
 *
 * Archives are recognised by their content (tar.gz, tar, zip) and unpacked; a `file` URL or
 * path of a directory is copied. Every entry is checked before anything is written: an entry
 * whose path is absolute or climbs out with `..` (zip-slip), or a symbolic link that points
 * outside the target, rejects the whole archive. The result is assembled in a hidden sibling
 * and moved into place only when complete (replacing an earlier pull), so the step writes to
 * the target's parent directory; on error nothing is left behind. User info in an http URL
 * becomes basic authentication and is never shown. Other schemes (`s3://`, `gs://`, ...) are
 * not supported.
 *
 * @param inputs `url` and the settings.
 * @param context The run's working directory.
 * @returns `{ directory }`, relative to the run's working directory.
 * @throws {TypeError} when `url` is missing, a setting is unknown or of the wrong type.
 * @throws {Error} when the source cannot be fetched or read, is not an archive, or is unsafe.
 *
 * @example Copy a local directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { pull_from_remote_storage } from "./pull_from_remote_storage.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/shared/flows`, { recursive: true });
 * await Deno.writeTextFile(`${root}/shared/flows/flow.ts`, "export {};");
 * const context = { workingDirectory: `${root}/run`, env: {}, write() {} };
 * await Deno.mkdir(context.workingDirectory);
 * const result = await pull_from_remote_storage({ url: `file://${root}/shared/flows` }, context);
 * assert.equal(await Deno.readTextFile(`${root}/run/${result.directory}/flow.ts`), "export {};");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function pull_from_remote_storage(
  inputs: PullFromRemoteStorageInputs,
  context?: StepContext,
): Promise<{ directory: string }> {
  const checked = checkInputs(STEP, inputs, {
    url: "string",
    headers: "environment",
    directory: "string",
  }, { required: ["url"] });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(checked.headers ?? {})) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot run ${STEP}: header "${name}" must be a string, found ${
          describeType(value)
        }; quote the value`,
      );
    }
    headers[name] = value;
  }
  const url = checked.url as string;
  const directory = checked.directory as string | undefined;
  return await pullCode({
    step: STEP,
    source: url,
    label: `"${sourceLabel(url)}"`,
    headers,
    ...(directory === undefined ? {} : { directory }),
    context: stepContext(context),
  });
}
