// Portable: no runtime APIs.
import type { OutputChunk, Permissions } from "../types.ts";
import type { Runtime } from "../_util/runtime.ts";

/** Where a step's function lives, after reference resolution. */
export interface StepTarget {
  /** The reference as written in the step (`prefect.deployments.steps.git_clone`, `./a.ts#f`). */
  reference: string;
  /** An absolute module specifier: a `file:`/`https:` URL or an `npm:` specifier. */
  specifier: string;
  /** The export to call. */
  exportName: string;
  /** True for stepbox's own built-in steps: they also receive a {@linkcode StepContext}. */
  builtin: boolean;
}

/** Everything an executor needs besides the target and the inputs. */
export interface CallOptions {
  /** The permissions granted to this call, already checked against the ceiling. Absent kinds are denied. */
  permissions: Permissions;
  /** The run's import map (bare names and prefixes -> absolute specifiers). */
  importMap: Record<string, string>;
  /** Terminate the call after this many milliseconds. */
  timeoutMs?: number;
  /** Cancels the call and terminates its worker. */
  signal?: AbortSignal;
  /** The run's working directory (absolute), for built-in steps. */
  workingDirectory?: string;
  /** The environment of commands started by built-in steps. */
  env: Record<string, string>;
  /** Receives live output of the step. */
  onOutput?: (chunk: OutputChunk) => void;
  /**
   * Set when the caller already knows `inputs` are plain JSON data (plain objects and arrays,
   * strings, finite numbers other than -0, booleans, null), so that the executor may
   * send them as JSON text without checking them again. Absent: the executor decides itself.
   */
  jsonSafeInputs?: boolean;
  /** The ceiling and sandbox settings the host must run under. */
  policy: {
    allow: Permissions;
    env: Record<string, string>;
    memoryMb?: number;
  };
}

/** What an executor is and what it enforces. */
export interface ExecutorInfo {
  /** The isolation it provides. */
  isolation: "step" | "pool" | "inline";
  /** The runtime it runs on. */
  runtime: Runtime;
  /** Whether a step's `permissions` are enforced; if not, the core refuses steps that request any. */
  enforcesPermissions: boolean;
}

/** Runs step calls. The core knows nothing else of Workers, processes or permissions. */
export interface Executor extends AsyncDisposable {
  readonly info: ExecutorInfo;
  /**
   * Calls `target`'s export with `inputs` and resolves to its return value. `target` and
   * `inputs` are lent, not given: a run may hand the same objects to later calls, so an
   * executor copies what it passes on and changes neither.
   * Rejects with the step's own error (rebuilt with name, message, stack, props and cause),
   * or a `SandboxError` / `StepTimeoutError` / `StepPermissionError` / `AbortError`.
   */
  call(
    target: StepTarget,
    inputs: Record<string, unknown>,
    options: CallOptions,
  ): Promise<unknown>;
  /**
   * A hint that `target` will be called soon with these options: start loading it. Optional.
   * May return a promise that resolves (never rejects) once the hint is under way, e.g. its
   * process started: a caller about to block its thread for a while (loading modules) can wait
   * for it, so that the hint's own messages go out first.
   */
  prepare?(target: StepTarget, options: CallOptions): void | Promise<void>;
  /** Terminates every worker and host it started. */
  close(): Promise<void>;
}
