/**
 * Starts the sandbox before the run needs it: the CLI knows the policy, the import map and the
 * first step as soon as the file is loaded, so the sandbox host (a process to start) and the
 * first step's worker (a module to load) get going while the rest of the command sets up.
 *
 * @module
 */

import { planFirstCall } from "../../core/run_steps.ts";
import type { Executor } from "../../sandbox/executor.ts";
import type { RunOptions, Step } from "../../types.ts";

/**
 * Hints `executor` to start what the first of `steps` will need, planned exactly as the run will
 * plan it (the same import map, target and grant, so the run finds the warm host and worker).
 * A hint only: anything wrong is left for the run itself to report, so nothing here throws.
 *
 * @param executor The executor the run will use.
 * @param steps The steps the run starts with.
 * @param options The run's options (import map, base URL, CDN, policy).
 * @returns Resolves once the hint is under way (the sandbox host started, or a host started
 *   ahead of time told the step): the run's next long stretch of module loading would otherwise
 *   hold the hint's messages back.
 *
 * @example A hint to an executor that records it
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmFirstStep } from "./_warm.ts";
 * const hints: string[] = [];
 * const executor = {
 *   info: { isolation: "step" as const, runtime: "deno" as const, enforcesPermissions: true },
 *   call: () => Promise.resolve(undefined),
 *   prepare: (target: { specifier: string }) => void hints.push(target.specifier),
 *   close: () => Promise.resolve(),
 *   [Symbol.asyncDispose]: () => Promise.resolve(),
 * };
 * await warmFirstStep(executor, [{ "./s.ts#f": { a: 1 } }], {
 *   baseUrl: new URL("file:///project/"),
 * });
 * await warmFirstStep(executor, [], {});
 * assert.deepEqual(hints, ["file:///project/s.ts"]);
 * ```
 */
export async function warmFirstStep(
  executor: Executor,
  steps: readonly Step[],
  options: Pick<RunOptions, "importMap" | "baseUrl" | "cdn" | "policy">,
): Promise<void> {
  if (executor.prepare === undefined) return;
  let underWay: void | Promise<void>;
  try {
    const first = planFirstCall(steps, options);
    if (first === undefined) return;
    underWay = executor.prepare(first.target, first.call);
  } catch {
    // The run plans the same steps and reports what is wrong, with the step's position.
    return;
  }
  await underWay;
}
