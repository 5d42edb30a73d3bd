/**
 * Every task in report order, each stepbox task's floor, and the targets, as data.
 *
 * All ratios compare p50 values measured in the same run: the machine's speed swings between runs,
 * its ratios far less.
 *
 * @module
 */

/** The tasks in the order the report lists them: floors first, then stepbox. */
export const TASK_ORDER: readonly string[] = Object.freeze([
  "direct-call",
  "raw-postmessage-rtt",
  "comlink-rtt",
  "host-worker-rtt",
  "socket-rtt",
  "bare-worker-spawn",
  "subprocess-per-step",
  "deno-run-empty",
  "json-roundtrip-1mb",
  "yaml-parse-10k",
  "js-yaml-parse-10k",
  "inline-step",
  "pool-step",
  "pool-step-new-list",
  "isolated-step",
  "pipeline-100-pool",
  "pipeline-100-isolated",
  "payload-1mb-pool",
  "apply-values-1mb",
  "load-10k-steps",
  "cli-hello",
  "cli-hello-cold",
]);

/** The suffix of a task measured again with every thread pinned to one CPU. */
export const PINNED_SUFFIX = "-pinned";

/** A target on a ratio. */
export interface Target {
  op: "<=" | "<" | ">=";
  value: number;
}

/** `task`'s p50 divided by `times` x `floor`'s p50, and the target that ratio must meet, if any. */
export interface Comparison {
  task: string;
  floor: string;
  /** The floor counts this many times: a 100-step run against 100 single floors. @default 1 */
  times?: number;
  target?: Target;
  /** How the report words the check, when the plain ratio reads badly. */
  label?: string;
}

/** The comparisons: the first one of each task is its "vs floor" column in the table. */
export const COMPARISONS: readonly Comparison[] = Object.freeze([
  { task: "comlink-rtt", floor: "raw-postmessage-rtt" },
  { task: "host-worker-rtt", floor: "raw-postmessage-rtt" },
  { task: "socket-rtt", floor: "raw-postmessage-rtt" },
  { task: "subprocess-per-step", floor: "deno-run-empty" },
  { task: "yaml-parse-10k", floor: "js-yaml-parse-10k" },
  { task: "inline-step", floor: "direct-call" },
  {
    task: "pool-step",
    floor: "raw-postmessage-rtt",
    target: { op: "<=", value: 2 },
  },
  { task: "pool-step-new-list", floor: "raw-postmessage-rtt" },
  {
    task: "isolated-step",
    floor: "bare-worker-spawn",
    target: { op: "<=", value: 1.25 },
  },
  { task: "pipeline-100-pool", floor: "raw-postmessage-rtt", times: 100 },
  { task: "pipeline-100-isolated", floor: "bare-worker-spawn", times: 100 },
  {
    task: "payload-1mb-pool",
    floor: "json-roundtrip-1mb",
    target: { op: "<=", value: 3 },
  },
  {
    task: "apply-values-1mb",
    floor: "json-roundtrip-1mb",
    target: { op: "<=", value: 2 },
  },
  {
    task: "load-10k-steps",
    floor: "js-yaml-parse-10k",
    target: { op: "<=", value: 1.5 },
  },
  {
    task: "cli-hello",
    floor: "deno-run-empty",
    target: { op: "<=", value: 5 },
  },
  { task: "cli-hello-cold", floor: "deno-run-empty" },
  { task: "comlink-rtt-pinned", floor: "raw-postmessage-rtt-pinned" },
  { task: "host-worker-rtt-pinned", floor: "raw-postmessage-rtt-pinned" },
  { task: "socket-rtt-pinned", floor: "raw-postmessage-rtt-pinned" },
  {
    task: "pool-step-pinned",
    floor: "raw-postmessage-rtt-pinned",
    target: { op: "<=", value: 2 },
  },
  {
    task: "pool-step-new-list-pinned",
    floor: "raw-postmessage-rtt-pinned",
  },
  {
    task: "pool-step",
    floor: "socket-rtt",
    label: "pool-step / socket-rtt (the one hop of a lane)",
  },
  {
    task: "pool-step-pinned",
    floor: "socket-rtt-pinned",
    label: "pool-step-pinned / socket-rtt-pinned",
  },
  {
    task: "pool-step",
    floor: "host-worker-rtt",
    label: "pool-step / host-worker-rtt (the two hops a relayed call crosses)",
  },
  {
    task: "isolated-step",
    floor: "subprocess-per-step",
    target: { op: "<", value: 1 },
    label: "isolated-step vs subprocess-per-step",
  },
  {
    task: "subprocess-per-step",
    floor: "pool-step",
    target: { op: ">=", value: 50 },
    label: "subprocess-per-step / pool-step",
  },
]);

/**
 * Whether `ratio` meets `target`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meets } from "./_targets.ts";
 *
 * assert.equal(meets(1.2, { op: "<=", value: 1.25 }), true);
 * assert.equal(meets(40, { op: ">=", value: 50 }), false);
 * ```
 */
export function meets(ratio: number, target: Target): boolean {
  switch (target.op) {
    case "<=":
      return ratio <= target.value;
    case "<":
      return ratio < target.value;
    case ">=":
      return ratio >= target.value;
  }
}
