/**
 * The `pull_with_block` built-in step, compatible with Prefect's
 * `prefect.deployments.steps.pull_with_block` for blocks that point to a directory or archive.
 *
 * A step runs in a sandbox that cannot reach the run's value source, so the block's data comes
 * in as the `data` input: the core fills it by resolving `block_type_slug` / `block_document_name`
 * from the value source before the call (Prefect's recipe stays unchanged), and a step file can
 * also give it explicitly as `data: "{{ prefect.blocks.<slug>.<name> }}"`.
 *
 * @module
 */

import type { StepContext } from "../types.ts";
import { stepContext } from "./_context.ts";
import { checkInputs, describeType } from "./_inputs.ts";
import { pullCode } from "./_pull.ts";

const STEP = "pull_with_block";
const LOCATION_FIELDS = ["basepath", "url", "path"] as const;

/** The inputs of {@linkcode pull_with_block}, with Prefect's names plus the block's `data`. */
export interface PullWithBlockInputs {
  /** The block document's name; also the name of the target directory, as in Prefect. */
  "block_document_name": string;
  /** The block's type slug, e.g. `local-file-system` or `remote-file-system`. */
  "block_type_slug": string;
  /**
   * The block document's data (secret). Its `basepath`, `url` or `path` names an http(s) or file
   * URL or a local path of an archive or directory; `headers` or `settings.headers` are sent
   * with http requests. Filled by the core from the value source when absent from the step.
   */
  data?: Record<string, unknown>;
}

/**
 * Pulls the code a storage block points to into `<working directory>/<block_document_name>`
 * and returns that directory (relative, as Prefect does). Supported blocks are those whose data
 * has a `basepath`, `url` or `path` naming an http(s) or file URL or a local path of a tar.gz,
 * tar or zip archive or of a directory (Prefect's `local-file-system`, and `remote-file-system`
 * over http), pulled with the same checks as `pull_from_remote_storage`. Messages name the
 * block, never its data.
 *
 * @param inputs The block's type slug, name and data.
 * @param context The run's working directory.
 * @returns `{ directory }`, relative to the run's working directory.
 * @throws {TypeError} when an input is missing or of the wrong type, or the block's data names
 * no location.
 * @throws {Error} when the location cannot be read, is not an archive or directory, or is unsafe.
 *
 * @example A local-file-system block
 * ```ts
 * import assert from "node:assert/strict";
 * import { pull_with_block } from "./pull_with_block.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/code`);
 * await Deno.writeTextFile(`${root}/code/flow.ts`, "export {};");
 * await Deno.mkdir(`${root}/run`);
 * const result = await pull_with_block({
 *   block_document_name: "my-code",
 *   block_type_slug: "local-file-system",
 *   data: { basepath: `${root}/code` },
 * }, { workingDirectory: `${root}/run`, env: {}, write() {} });
 * assert.deepEqual(result, { directory: "my-code" });
 * assert.equal(await Deno.readTextFile(`${root}/run/my-code/flow.ts`), "export {};");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function pull_with_block(
  inputs: PullWithBlockInputs,
  context?: StepContext,
): Promise<{ directory: string }> {
  const checked = checkInputs(STEP, inputs, {
    block_document_name: "string",
    block_type_slug: "string",
    data: "mapping",
  }, { required: ["block_document_name", "block_type_slug"] });
  const name = checked.block_document_name as string;
  const slug = checked.block_type_slug as string;
  const block = `${slug}/${name}`;
  if (name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new TypeError(
      `Cannot run ${STEP}: input "block_document_name" must be a block name, found "${name}"; block names hold no "/" and are not "." or ".."`,
    );
  }
  const data = checked.data as Record<string, unknown> | undefined;
  if (data === undefined) {
    throw new TypeError(
      `Cannot run ${STEP}: the data of block "${block}" was not provided; run the step through stepbox's runner (it loads the block from the value source), or add data: "{{ prefect.blocks.${slug}.${name} }}" to the step`,
    );
  }
  const field = LOCATION_FIELDS.find((key) => typeof data[key] === "string");
  if (field === undefined) {
    throw new TypeError(
      `Cannot run ${STEP}: block "${block}" has no "basepath", "url" or "path" to pull from (its fields: ${
        Object.keys(data).map((k) => `"${k}"`).join(", ") || "none"
      }); only blocks that point to an http(s) or file location are supported`,
    );
  }
  const settings = data.settings;
  const rawHeaders = data.headers ??
    (typeof settings === "object" && settings !== null
      ? (settings as Record<string, unknown>).headers
      : undefined);
  const headers: Record<string, string> = {};
  if (rawHeaders !== undefined && rawHeaders !== null) {
    if (typeof rawHeaders !== "object" || Array.isArray(rawHeaders)) {
      throw new TypeError(
        `Cannot run ${STEP}: the headers of block "${block}" must be a mapping, found ${
          describeType(rawHeaders)
        }; fix the block`,
      );
    }
    for (const [key, value] of Object.entries(rawHeaders)) {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot run ${STEP}: header "${key}" of block "${block}" must be a string, found ${
            describeType(value)
          }; fix the block`,
        );
      }
      headers[key] = value;
    }
  }
  return await pullCode({
    step: STEP,
    source: data[field] as string,
    // The location is block data, hence secret: messages name the block instead.
    label: `the ${field} of block "${block}"`,
    headers,
    directory: name,
    context: stepContext(context),
  });
}
