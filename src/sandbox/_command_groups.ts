/**
 * The commands that built-in steps started and that are still running, so that a step stopped
 * by a timeout or an abort does not leave them behind. Each command leads a process group of its
 * own (`runCommand` starts it detached), and signalling the group reaches whatever the command
 * started in turn (`sh -c "sleep 100; ..."` leaves `sleep` running if only `sh` is killed).
 *
 * Signalling a group needs the `run` permission in full: without it the commands are left to
 * end by themselves.
 *
 * @module
 */

import type { HostSignal } from "./_system.ts";

/** Signals a process group by its leader's pid; one that is gone is skipped, without error. */
export type KillGroup = (pid: number, signal: HostSignal) => void;

/**
 * Signals the process group that `pid` leads, with Deno's `kill`.
 *
 * @example
 * ```ts
 * import { killGroup } from "./_command_groups.ts";
 * killGroup(2 ** 22 + 7, "SIGKILL"); // no such group: nothing happens
 * ```
 */
export function killGroup(pid: number, signal: HostSignal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    // Gone already, or no `run` permission in full.
  }
}

/** The process groups of running commands. */
export class CommandGroups {
  readonly #leaders = new Set<number>();
  readonly #kill: KillGroup;

  /**
   * @param kill How to signal a group: Deno's `kill` unless the parent runs on another runtime.
   */
  constructor(kill: KillGroup = killGroup) {
    this.#kill = kill;
  }

  /**
   * Records a running command's group.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { CommandGroups } from "./_command_groups.ts";
   * const groups = new CommandGroups();
   * groups.add(4242);
   * assert.equal(groups.size, 1);
   * groups.delete(4242);
   * assert.equal(groups.size, 0);
   * ```
   */
  add(pid: number): void {
    this.#leaders.add(pid);
  }

  /** Forgets a command that has exited. */
  delete(pid: number): void {
    this.#leaders.delete(pid);
  }

  /** How many commands are running. */
  get size(): number {
    return this.#leaders.size;
  }

  /**
   * Sends `signal` to every group. `SIGKILL` also forgets them: nothing is left to signal.
   * A group that is already gone, or that this process may not signal, is skipped.
   *
   * @example Ending what a step started
   * ```ts
   * import assert from "node:assert/strict";
   * import { CommandGroups } from "./_command_groups.ts";
   * const child = new Deno.Command("sleep", { args: ["30"], detached: true }).spawn();
   * const groups = new CommandGroups();
   * groups.add(child.pid);
   * groups.signal("SIGKILL");
   * assert.equal((await child.status).signal, "SIGKILL");
   * ```
   */
  signal(signal: HostSignal): void {
    for (const pid of this.#leaders) this.#kill(pid, signal);
    if (signal === "SIGKILL") this.#leaders.clear();
  }
}
