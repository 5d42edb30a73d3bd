/**
 * Picks an executor backend: {@linkcode createExecutor} loads only the one it needs, with a
 * lazy `import()`. Also gives `detectRuntime`, which tells the runtimes apart once.
 *
 * @module
 */

import type { Isolation } from "../types.ts";
import type { Executor } from "./executor.ts";
import type { HostLauncher } from "./_host_process.ts";

export { detectRuntime, type Runtime } from "../_util/runtime.ts";

/** Options of {@linkcode createExecutor} for the sandboxed isolations. */
export interface CreateExecutorOptions {
  /** Host processes started ahead of time (see `SandboxExecutorOptions.launcher`). */
  launcher?: HostLauncher;
}

/** The export the sandbox host client provides (declared here so either side can change alone). */
interface HostClientModule {
  createSandboxExecutor(
    options: { isolation: Isolation } & CreateExecutorOptions,
  ): Executor | Promise<Executor>;
}

/**
 * Creates the executor for an isolation mode: `"inline"` runs steps in-process (no isolation,
 * explicit opt-in); `"step"` and `"pool"` run each call in a permission-restricted worker of a
 * sandbox host process. The backend's module is loaded only when it is chosen.
 *
 * @param isolation The isolation mode.
 * @returns The executor; close it when done.
 * @throws {TypeError} for an unknown isolation mode
 *
 * @example The inline executor
 * ```ts
 * import assert from "node:assert/strict";
 * import { createExecutor } from "./select.ts";
 *
 * const executor = await createExecutor("inline");
 * assert.equal(executor.info.isolation, "inline");
 * assert.equal(executor.info.enforcesPermissions, false);
 * await executor.close();
 * ```
 */
export async function createExecutor(
  isolation: Isolation,
  options: CreateExecutorOptions = {},
): Promise<Executor> {
  switch (isolation) {
    case "inline": {
      const { createInlineExecutor } = await import("./inline.ts");
      return createInlineExecutor();
    }
    case "step":
    case "pool": {
      // Loaded only when a sandbox is requested, so inline-only runtimes never load it.
      const module: HostClientModule = await import("./host_client.ts");
      return await module.createSandboxExecutor({ ...options, isolation });
    }
    default:
      throw new TypeError(
        `Cannot create an executor: unknown isolation ${
          JSON.stringify(isolation)
        }; use "step", "pool" or "inline"`,
      );
  }
}
