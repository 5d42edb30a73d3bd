/**
 * `stepbox block set|get|ls|rm` over the embedded store. Block data are secrets: `get` masks
 * them unless `--reveal`, `ls` never shows them.
 *
 * @module
 */

import { FileStore } from "../../values/file_store.ts";
import type { BlockCliOptions } from "../args.ts";
import { UsageError } from "../args.ts";
import type { CommandContext } from "./_context.ts";

/**
 * Runs `stepbox block ...`; resolves to the exit code.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockCommand } from "./block.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   let out = "";
 *   const sink = { stdout: (t: string) => out += t, stderr: () => {}, live: false, color: false };
 *   const context = { cwd: dir, env: {}, sink, readStdin: () => Promise.resolve("") };
 *   await blockCommand({ command: "block", action: "set", slug: "secret", name: "t", value: "s3cr3t", reveal: false }, context);
 *   await blockCommand({ command: "block", action: "get", slug: "secret", name: "t", reveal: false }, context);
 *   assert.deepEqual(JSON.parse(out).data, { value: "***" });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function blockCommand(
  options: BlockCliOptions,
  context: CommandContext,
): Promise<number> {
  const store = FileStore.fromEnvironment({
    cwd: context.cwd,
    env: context.env,
  });
  const slug = options.slug ?? "";
  const name = options.name ?? "";
  const label = `${slug}/${name}`;
  switch (options.action) {
    case "set": {
      let data: unknown;
      if (options.json !== undefined) {
        try {
          data = JSON.parse(options.json);
        } catch {
          // Never echo the text: it is a secret.
          throw new UsageError(
            `The --json value of block "${label}" is not valid JSON; write an object such as '{"value": "..."}'`,
            "block",
          );
        }
        if (typeof data !== "object" || data === null || Array.isArray(data)) {
          throw new UsageError(
            `The --json value of block "${label}" must be a JSON object, such as '{"value": "..."}'`,
            "block",
          );
        }
      } else {
        let value = options.value ?? "";
        if (value === "-") {
          value = (await context.readStdin()).replace(/\r?\n$/, "");
        }
        data = { value };
      }
      const block = await store.setBlock(slug, name, data);
      context.sink.stderr(
        `Set block "${label}" (id ${block.id}) in ${store.directory}\n`,
      );
      return 0;
    }
    case "get": {
      const block = await store.getBlock(slug, name);
      if (block === undefined) {
        context.sink.stderr(
          `Block "${label}" does not exist in ${store.directory}; set it with "stepbox block set ${label} --value TEXT"\n`,
        );
        return 1;
      }
      const shown = options.reveal
        ? block
        : { ...block, data: maskData(block.data) };
      context.sink.stdout(JSON.stringify(shown, null, 2) + "\n");
      return 0;
    }
    case "ls": {
      const blocks = await store.listBlocks();
      for (const block of blocks) {
        context.sink.stdout(
          `${block.blockTypeSlug}/${block.name}\t${block.id}\n`,
        );
      }
      if (blocks.length === 0) {
        context.sink.stderr(`No blocks in ${store.directory}\n`);
      }
      return 0;
    }
    case "rm": {
      if (await store.removeBlock(slug, name)) {
        context.sink.stderr(`Removed block "${label}"\n`);
        return 0;
      }
      context.sink.stderr(
        `Block "${label}" does not exist in ${store.directory}\n`,
      );
      return 1;
    }
  }
}

/** The data's shape with every leaf value replaced by `***`. */
function maskData(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(maskData);
  if (typeof data === "object" && data !== null) {
    return Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, maskData(value)]),
    );
  }
  return "***";
}
