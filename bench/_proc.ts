/**
 * Reads a process's resident memory and thread count from Linux's `/proc/<pid>/status`.
 *
 * @module
 */

/** What `/proc/<pid>/status` says about a process. */
export interface ProcStatus {
  /** Resident set size in bytes (`VmRSS`). */
  rssBytes: number;
  /** Threads (`Threads`): the main thread, runtime threads and one per Worker. */
  threads: number;
}

/**
 * Reads `VmRSS` and `Threads` of `pid` (`"self"` for this process).
 *
 * @example This process
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProcStatus } from "./_proc.ts";
 *
 * if (Deno.build.os === "linux") {
 *   const status = await readProcStatus("self");
 *   assert.ok(status.rssBytes > 1_000_000 && status.threads >= 1);
 * }
 * ```
 */
export async function readProcStatus(
  pid: number | "self",
): Promise<ProcStatus> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)?.[1];
  const threads = /^Threads:\s+(\d+)$/m.exec(text)?.[1];
  if (rss === undefined || threads === undefined) {
    throw new Error(
      `Cannot read /proc/${pid}/status: no VmRSS or Threads line found`,
    );
  }
  return { rssBytes: Number(rss) * 1024, threads: Number(threads) };
}

/**
 * Waits for memory to settle after a burst of Worker starts, then returns the median of a few
 * readings: one reading right after the starts catches allocations that are about to be freed.
 *
 * @example This process
 * ```ts
 * import assert from "node:assert/strict";
 * import { settledStatus } from "./_proc.ts";
 *
 * if (Deno.build.os === "linux") assert.ok((await settledStatus("self")).rssBytes > 0);
 * ```
 */
export async function settledStatus(pid: number | "self"): Promise<ProcStatus> {
  const readings: ProcStatus[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    readings.push(await readProcStatus(pid));
  }
  readings.sort((a, b) => a.rssBytes - b.rssBytes);
  return readings[2] as ProcStatus;
}

/**
 * The ids of every process whose parent is `pid` (Linux).
 *
 * @example A child process
 * ```ts
 * import assert from "node:assert/strict";
 * import { childPids } from "./_proc.ts";
 *
 * if (Deno.build.os === "linux") {
 *   const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
 *   try {
 *     assert.ok((await childPids(Deno.pid)).includes(child.pid));
 *   } finally {
 *     child.kill();
 *     await child.status;
 *   }
 * }
 * ```
 */
export async function childPids(pid: number): Promise<number[]> {
  const children: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // Field 4 is the parent pid; the command (field 2) may hold spaces, so split after its ")".
      const parent = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
      if (Number(parent) === pid) children.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}
