/**
 * Starts the sandbox before the run needs it: the CLI knows the policy, the import map and the
 * first step as soon as the file is loaded, so the sandbox host (a process to start) and the
 * first step's worker (a module to load) get going while the rest of the command sets up.
 *
 * @module
 */

import { buildImportMap } from "../../core/import_map.ts";
import { type ParsedStep, parseStep } from "../../core/parse_step.ts";
import { computeGrant } from "../../core/permissions.ts";
import {
  findBuiltinTarget,
  resolveStepReference,
} from "../../core/step_reference.ts";
import type { CallOptions, Executor } from "../../sandbox/executor.ts";
import type { RunOptions, Step } from "../../types.ts";

/**
 * Hints `executor` to start what the first of `steps` will need, planned exactly as the run will
 * plan it (the same import map, target and grant, so the run finds the warm host and worker).
 * A hint only: anything wrong is left for the run itself to report, so nothing here throws.
 *
 * @param executor The executor the run will use.
 * @param steps The steps the run starts with.
 * @param options The run's options (import map, base URL, CDN, policy).
 * @returns Whether a hint was given, once it is under way (the sandbox host started, or a
 *   host started ahead of time told the step): the run's next long stretch of module loading
 *   would otherwise hold the hint's messages back.
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
 * const given = await warmFirstStep(executor, [{ "./s.ts#f": { a: 1 } }], {
 *   baseUrl: new URL("file:///project/"),
 * });
 * assert.equal(given, true);
 * assert.deepEqual(hints, ["file:///project/s.ts"]);
 * assert.equal(await warmFirstStep(executor, [], {}), false);
 * ```
 */
export async function warmFirstStep(
  executor: Executor,
  steps: readonly Step[],
  options: Pick<RunOptions, "importMap" | "baseUrl" | "cdn" | "policy">,
): Promise<boolean> {
  if (executor.prepare === undefined) return false;
  let underWay: void | Promise<void>;
  try {
    const parsed: ParsedStep[] = [];
    steps.forEach((step, index) => {
      const one = parseStep(step, index);
      if (one !== undefined) parsed.push(one);
    });
    const first = parsed[0];
    if (first === undefined) return false;
    const importMap = buildImportMap(parsed, {
      ...(options.importMap !== undefined
        ? { importMap: options.importMap }
        : {}),
      ...(options.cdn !== undefined ? { cdn: options.cdn } : {}),
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    });
    const target = resolveStepReference(first.reference, {
      importMap,
      baseUrl: options.baseUrl,
    });
    const builtin = target.builtin ? findBuiltinTarget(target) : undefined;
    const policy = options.policy ?? {};
    const grant = computeGrant(first, {
      builtin,
      ceiling: policy.allow ?? {},
    });
    const callOptions: CallOptions = {
      permissions: grant,
      importMap,
      env: policy.env ?? {},
      policy: {
        allow: policy.allow ?? {},
        env: policy.env ?? {},
        ...(policy.memoryMb === undefined ? {} : { memoryMb: policy.memoryMb }),
      },
    };
    underWay = executor.prepare(target, callOptions);
  } catch {
    // The run plans the same steps and reports what is wrong, with the step's position.
    return false;
  }
  await underWay;
  return true;
}
