/**
 * The run state a built-in step works with, and a fallback for direct calls without one.
 *
 * @module
 */

import type { StepContext } from "../types.ts";

/**
 * Returns `context`, or, for a direct call without one, a context built from the process:
 * its current directory, its environment (when readable) and no live output.
 *
 * @param context The context the run passed, if any.
 * @returns A complete context.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepContext } from "./_context.ts";
 * const given = { workingDirectory: "/srv", env: {}, write() {} };
 * assert.equal(stepContext(given), given);
 * assert.equal(stepContext().workingDirectory, Deno.cwd());
 * ```
 */
export function stepContext(context?: StepContext): StepContext {
  if (context !== undefined) return context;
  let env: Record<string, string> = {};
  try {
    env = Deno.env.toObject();
  } catch {
    // Without env permission commands start with an empty environment.
  }
  return { workingDirectory: Deno.cwd(), env, write() {} };
}

/**
 * Writes live output through `context`, never letting a failing sink stop the step.
 *
 * @param context Where the output goes.
 * @param stream The stream the text came from.
 * @param text The text.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeOutput } from "./_context.ts";
 * const seen: string[] = [];
 * writeOutput({ workingDirectory: "/", env: {}, write: (_s, t) => seen.push(t) }, "stdout", "hi");
 * assert.deepEqual(seen, ["hi"]);
 * ```
 */
export function writeOutput(
  context: StepContext,
  stream: "stdout" | "stderr",
  text: string,
): void {
  try {
    // Across the worker boundary `write` may return a promise; output is best effort.
    const result: unknown = context.write(stream, text);
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // A closed progress output must not fail the step.
  }
}
