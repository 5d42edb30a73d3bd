/**
 * The `inline` executor: step calls in this process and thread, with the same contract as the
 * sandboxed executors but no isolation at all. For runtimes without Workers or subprocesses
 * (Deno Deploy, Supabase Edge Functions); an explicit opt-in.
 *
 * @module
 */

import {
  OutputNotCloneableError,
  ReferenceResolutionError,
  SandboxError,
  StepTimeoutError,
} from "../errors.ts";
import { findUncloneable } from "../core/cloneable.ts";
import type { StepContext } from "../types.ts";
import type {
  CallOptions,
  Executor,
  ExecutorInfo,
  StepTarget,
} from "./executor.ts";
import { CommandGroups } from "./_command_groups.ts";
import { detectRuntime } from "../_util/runtime.ts";

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ??
    new DOMException("The step was aborted", "AbortError");
}

async function loadFunction(
  target: StepTarget,
): Promise<(...args: unknown[]) => unknown> {
  let module: Record<string, unknown>;
  try {
    module = await import(target.specifier);
  } catch (error) {
    throw new ReferenceResolutionError(
      `Cannot import "${target.reference}": the module "${target.specifier}" failed to load (${
        error instanceof Error ? error.message : String(error)
      }); check that it exists and has no syntax errors`,
      { reference: target.reference, specifier: target.specifier },
      { cause: error },
    );
  }
  const exported = Object.hasOwn(module, target.exportName)
    ? module[target.exportName]
    : undefined;
  if (typeof exported !== "function") {
    const exports = Object.keys(module).map((name) => `"${name}"`).join(", ");
    throw new ReferenceResolutionError(
      exported === undefined
        ? `Cannot import "${target.reference}": the module "${target.specifier}" has no export "${target.exportName}" (exports: ${
          exports || "none"
        }); fix the export name in the step reference`
        : `Cannot import "${target.reference}": the export "${target.exportName}" of "${target.specifier}" is ${typeof exported}, not a function (exports: ${exports}); point the reference at an exported function`,
      { reference: target.reference, specifier: target.specifier },
    );
  }
  return exported as (...args: unknown[]) => unknown;
}

function checkOutput(target: StepTarget, output: unknown): unknown {
  try {
    // A copy, as a worker boundary would make: the step keeps no handle on what the run stores.
    return structuredClone(output);
  } catch (error) {
    // Only a failed copy pays for the walk that finds where the offending value is.
    const keyPath = findUncloneable(output);
    const where = keyPath === undefined
      ? "it cannot be copied"
      : `${
        keyPath === "" ? "the output itself" : `"${keyPath}"`
      } is a function, symbol or similar, which cannot cross a worker boundary`;
    throw new OutputNotCloneableError(
      `Cannot use the output of "${target.reference}": ${where}; return plain data (strings, numbers, lists, objects)`,
      { keyPath: keyPath ?? "", cause: error },
    );
  }
}

/**
 * Creates the inline executor. It imports the step module with a dynamic `import()` (the
 * runtime's module cache applies, and so does the process's own import map, not the run's),
 * calls the export with a copy of the inputs (built-ins also get a {@linkcode StepContext}),
 * and returns a copy of the output.
 *
 * It enforces no permissions (`info.enforcesPermissions` is false, so the core refuses steps
 * that request any unless `policy.allowUnenforced` is set). A timeout or an abort rejects the
 * call at once and ends the commands a built-in started, but nothing can stop the step's code:
 * it keeps running in the background, and a synchronous endless loop blocks the whole thread.
 *
 * @returns The executor.
 *
 * @example Calling a step in-process
 * ```ts
 * import assert from "node:assert/strict";
 * import { createInlineExecutor } from "./inline.ts";
 *
 * await using executor = createInlineExecutor();
 * const specifier = "data:text/javascript," + encodeURIComponent("export const add = ({ a, b }) => ({ sum: a + b });");
 * const output = await executor.call(
 *   { reference: "add", specifier, exportName: "add", builtin: false },
 *   { a: 1, b: 2 },
 *   { permissions: {}, importMap: {}, env: {}, policy: { allow: {}, env: {} } },
 * );
 * assert.deepEqual(output, { sum: 3 });
 * ```
 */
export function createInlineExecutor(): Executor {
  const info: ExecutorInfo = Object.freeze({
    isolation: "inline",
    runtime: detectRuntime(),
    enforcesPermissions: false,
  });

  // The commands of each call in flight, ended when it stops early or the executor closes.
  const running = new Set<CommandGroups>();
  // Loaded exports of this executor, so a module is imported and checked once, not per call.
  const loaded = new Map<string, Promise<(...args: unknown[]) => unknown>>();

  async function invoke(
    target: StepTarget,
    inputs: Record<string, unknown>,
    options: CallOptions,
    commands: CommandGroups | undefined,
  ): Promise<unknown> {
    if (target.builtin && info.runtime !== "deno") {
      // The built-ins are TypeScript written against Deno's APIs.
      throw new SandboxError(
        `Cannot run built-in step "${target.reference}" inline on ${info.runtime}: the built-in steps need Deno; use isolation "step" or "pool", which run them in a Deno sandbox host`,
        { moduleUrl: target.specifier },
      );
    }
    const key = `${target.specifier}#${target.exportName}`;
    let load = loaded.get(key);
    if (load === undefined) {
      load = loadFunction(target);
      loaded.set(key, load);
      // A failed load is not remembered: the module may be fixed before the next call.
      load.catch(() => loaded.delete(key));
    }
    const fn = await load;
    options.signal?.throwIfAborted();
    const copy = structuredClone(inputs);
    let output: unknown;
    if (target.builtin && commands !== undefined) {
      const context: StepContext = {
        workingDirectory: options.workingDirectory ?? ".",
        env: { ...options.env },
        write(stream, text) {
          options.onOutput?.({ stream, text });
        },
        commandStarted(pid) {
          commands.add(pid);
          return () => commands.delete(pid);
        },
      };
      output = await fn(copy, context);
    } else {
      output = await fn(copy);
    }
    return checkOutput(target, output);
  }

  return {
    info,
    call(target, inputs, options) {
      const { signal, timeoutMs } = options;
      if (signal?.aborted === true) return Promise.reject(abortReason(signal));
      // Only built-ins start commands.
      const commands = target.builtin ? new CommandGroups() : undefined;
      if (commands !== undefined) running.add(commands);
      return new Promise((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => settle(() => reject(abortReason(signal!)));
        function settle(action: () => void) {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (commands !== undefined) {
            // Once settled (a timeout, an abort), the step's commands end, whatever its code
            // still does; one that finished has none left.
            commands.signal("SIGKILL");
            running.delete(commands);
          }
          action();
        }
        signal?.addEventListener("abort", onAbort, { once: true });
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            const ended = (commands?.size ?? 0) > 0
              ? "its commands were ended, but "
              : "";
            settle(() =>
              reject(
                new StepTimeoutError(
                  `Step "${target.reference}" timed out after ${
                    timeoutMs / 1000
                  } s; ${ended}the inline executor cannot stop its code, which may still be running: raise its timeout or use isolation "step", which terminates the worker`,
                  { timeoutMs },
                ),
              )
            );
          }, timeoutMs);
        }
        invoke(target, inputs, options, commands).then(
          (value) => settle(() => resolve(value)),
          (error) => settle(() => reject(error)),
        );
      });
    },
    close() {
      for (const commands of running) commands.signal("SIGKILL");
      running.clear();
      return Promise.resolve();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
