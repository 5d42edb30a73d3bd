/**
 * What every command receives from `main.ts`: the run's working directory, the real
 * environment, the output streams and standard input. Commands never touch `Deno.args`,
 * `console` or `Deno.exit`.
 *
 * @module
 */

import type { ReportSink } from "../report.ts";
import type { HostLauncher } from "../../sandbox/_host_process.ts";

/** The context of one command invocation. */
export interface CommandContext {
  /** The directory the command works in (absolute): `INIT_CWD` under `deno task`, else the process's. */
  cwd: string;
  /** The real environment (templating `{{ $NAME }}` reads it; the sandbox sees a filtered copy). */
  env: Record<string, string>;
  /** Standard output/error and whether stderr is a live terminal. */
  sink: ReportSink;
  /** Reads all of standard input (`--value -`). */
  readStdin(): Promise<string>;
  /** Cancels a run (Ctrl-C). */
  signal?: AbortSignal;
  /** The process exits right after the command: sandbox hosts are killed without waiting for
   * them to be gone (they also end by themselves once the process's socket closes). */
  exitsAfter?: boolean;
  /** Sandbox hosts started ahead of time (the launch cache), offered to the run's executor. */
  launcher?: HostLauncher;
}
