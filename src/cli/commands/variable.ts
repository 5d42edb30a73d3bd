/**
 * `stepbox variable set|get|ls|rm` over the embedded store.
 *
 * @module
 */

import { FileStore } from "../../values/file_store.ts";
import type { VariableCliOptions } from "../args.ts";
import { UsageError } from "../args.ts";
import type { CommandContext } from "./_context.ts";

/**
 * Runs `stepbox variable ...`; resolves to the exit code.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { variableCommand } from "./variable.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   let out = "";
 *   const sink = { stdout: (t: string) => out += t, stderr: () => {}, live: false, color: false };
 *   const context = { cwd: dir, env: {}, sink, readStdin: () => Promise.resolve("") };
 *   await variableCommand({ command: "variable", action: "set", name: "n", value: "3", json: true }, context);
 *   assert.equal(await variableCommand({ command: "variable", action: "get", name: "n", json: false }, context), 0);
 *   assert.equal(out, "3\n");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function variableCommand(
  options: VariableCliOptions,
  context: CommandContext,
): Promise<number> {
  const store = FileStore.fromEnvironment({
    cwd: context.cwd,
    env: context.env,
  });
  const name = options.name ?? "";
  switch (options.action) {
    case "set": {
      let value: unknown = options.value ?? "";
      if (options.json) {
        try {
          value = JSON.parse(options.value ?? "");
        } catch {
          throw new UsageError(
            `The value of variable "${name}" is not JSON; drop --json to store it as a string`,
            "variable",
          );
        }
      }
      await store.setVariable(name, value);
      context.sink.stderr(`Set variable "${name}" in ${store.directory}\n`);
      return 0;
    }
    case "get": {
      const entry = await store.getVariable(name);
      if (entry === undefined) {
        context.sink.stderr(
          `Variable "${name}" does not exist in ${store.directory}; set it with "stepbox variable set ${name} VALUE"\n`,
        );
        return 1;
      }
      context.sink.stdout(JSON.stringify(entry.value) + "\n");
      return 0;
    }
    case "ls": {
      const entries = await store.listVariables();
      for (const entry of entries) {
        context.sink.stdout(`${entry.name}\t${JSON.stringify(entry.value)}\n`);
      }
      if (entries.length === 0) {
        context.sink.stderr(`No variables in ${store.directory}\n`);
      }
      return 0;
    }
    case "rm": {
      if (await store.removeVariable(name)) {
        context.sink.stderr(`Removed variable "${name}"\n`);
        return 0;
      }
      context.sink.stderr(
        `Variable "${name}" does not exist in ${store.directory}\n`,
      );
      return 1;
    }
  }
}
