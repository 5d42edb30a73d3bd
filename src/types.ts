// Portable: no runtime APIs.
/**
 * Shared public shapes: steps, permissions, policies, run options and events.
 *
 * @module
 */

import type { Executor } from "./sandbox/executor.ts";
import type { ValueSource } from "./values/value_source.ts";

/** A step as written: a mapping with exactly one key, the step reference. `null` or `{}` is skipped. */
export type Step = Record<string, unknown> | null;

/** The names of Deno's permission kinds that a step may request. */
export type PermissionName =
  | "read"
  | "write"
  | "net"
  | "env"
  | "run"
  | "sys"
  | "ffi"
  | "import";

/** Every permission kind, in a fixed order. */
export const PERMISSION_NAMES: readonly PermissionName[] = Object.freeze([
  "read",
  "write",
  "net",
  "env",
  "run",
  "sys",
  "ffi",
  "import",
]);

/** One permission grant: `true` (all), `false` (none) or a list of allowed values (paths, hosts, names). */
export type PermissionValue = boolean | readonly string[];

/** A set of grants. A kind that is absent is denied. */
export type Permissions = Partial<Record<PermissionName, PermissionValue>>;

/** How each step call is isolated. */
export type Isolation = "step" | "pool" | "inline";

/** What a run may grant its steps at most, and what the sandbox sees. */
export interface Policy {
  /** The permission ceiling: no step is ever granted more than this. @default {} (nothing) */
  allow?: Permissions;
  /** The environment the sandbox host (and so a step granted `env`) sees. @default {} */
  env?: Record<string, string>;
  /** The V8 heap cap of a sandbox host, in MiB. @default 512 */
  memoryMb?: number;
  /** Run steps that request permissions on an executor that cannot enforce them. @default false */
  allowUnenforced?: boolean;
}

/** A block document: the data behind `{{ prefect.blocks.<type>.<name> }}`. Its data is secret. */
export interface BlockDocument {
  id: string;
  blockTypeSlug: string;
  name: string;
  data: unknown;
}

/** Receives the warnings of templating (e.g. a missing placeholder with `warnOnNotset`). */
export type WarningLogger = (message: string) => void;

/** Options of {@linkcode runSteps} and {@linkcode runStep}. */
export interface RunOptions {
  /** Outputs of earlier steps (or `--set` values) that templates can use; deep-copied, never mutated. @default {} */
  upstreamOutputs?: Record<string, unknown>;
  /** Where relative module specifiers (`./x.ts#f`) resolve: a directory URL ending in `/`. @default undefined (relative references fail) */
  baseUrl?: string | URL;
  /** The variables and blocks source. @default an empty in-memory source */
  values?: ValueSource;
  /** The environment `{{ $NAME }}` placeholders read. The real process environment is never read. @default {} */
  env?: Record<string, string>;
  /** How step calls are isolated; ignored when `executor` is given. @default "step" */
  isolation?: Isolation;
  /** The executor that runs step calls; overrides `isolation`. */
  executor?: Executor;
  /** What steps may be granted at most and what the sandbox sees. @default {} (nothing) */
  policy?: Policy;
  /** Extra import-map entries (bare name or dotted prefix -> specifier). @default {} */
  importMap?: Record<string, string>;
  /** The CDN base that `requires: name@range` maps to. @default "https://esm.sh" */
  cdn?: string;
  /** The timeout of a step without its own `timeout` keyword, in seconds. @default none */
  timeout?: number;
  /** The run's working directory (absolute path) that built-in steps use. @default the process's */
  workingDirectory?: string;
  /** Cancels the run: pending steps reject and their workers are terminated. */
  signal?: AbortSignal;
  /** Receives every step event. */
  onEvent?: (event: StepEvent) => void;
  /** Receives progress lines such as ` > Running git_clone step...`. @default none */
  print?: (line: string) => void;
  /** Receives templating warnings. @default none */
  warn?: WarningLogger;
  /** Receives live output of steps that stream it (e.g. `run_shell_script`). */
  onOutput?: (chunk: OutputChunk) => void;
  /** Receives every secret value resolved from a block, so that printers can mask it. */
  onSecret?: (value: string) => void;
}

/** A piece of live output written by a step. */
export interface OutputChunk {
  stream: "stdout" | "stderr";
  text: string;
}

/** What every step event carries. */
export interface StepEventBase {
  /** The step's position in the list (0-based). */
  index: number;
  /** The step reference as written. */
  reference: string;
  /** The step name: the export name (`git_clone`). */
  name: string;
  /** The step's `id`, if any. */
  id?: string;
  /** The inputs as written, before templating (never resolved values, which may hold secrets). */
  inputs: Record<string, unknown>;
  /** Epoch milliseconds. */
  time: number;
}

/** The events a run emits, one discriminated union. */
export type StepEvent =
  | (StepEventBase & { type: "step.started" })
  | (StepEventBase & {
    type: "step.completed";
    durationMs: number;
    outputKeys: string[];
  })
  | (StepEventBase & {
    type: "step.failed";
    durationMs: number;
    error: { name: string; message: string };
  });

/**
 * What built-in steps receive as their second argument (user steps get only the inputs).
 * It carries the run's state that a process-wide API would otherwise hold.
 */
export interface StepContext {
  /** The run's working directory, absolute. */
  workingDirectory: string;
  /** The environment the run passes to commands it starts. */
  env: Record<string, string>;
  /** Streams live output to the run's progress output. */
  write(stream: "stdout" | "stderr", text: string): void;
  /**
   * Told of each command a built-in starts: its pid, which leads a process group of its own, so
   * that a step stopped by a timeout or an abort has the command and whatever it started ended
   * too. Returns what to call once the command has exited.
   */
  commandStarted?(pid: number): () => void;
}
