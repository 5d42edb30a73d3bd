/**
 * Results as rows, the printed table (Markdown, so it pastes into the README), and the JSON file.
 *
 * @module
 */

import { mToNs, type Task } from "tinybench";
import {
  type Comparison,
  COMPARISONS,
  meets,
  PINNED_SUFFIX,
  type Target,
  TASK_ORDER,
} from "./_targets.ts";

/** The outcome of one task. */
export type Row =
  | {
    name: string;
    state: "measured";
    p50Ns: number;
    meanNs: number;
    p99Ns: number;
    samples: number;
  }
  | { name: string; state: "unavailable" | "failed"; reason: string };

/** One task as DESIGN.md's `--json FILE` writes it; `error` only when it was not measured. */
export interface JsonEntry {
  // deno-lint-ignore camelcase -- DESIGN.md fixes the JSON keys
  p50_ns: number | null;
  // deno-lint-ignore camelcase -- DESIGN.md fixes the JSON keys
  mean_ns: number | null;
  // deno-lint-ignore camelcase -- DESIGN.md fixes the JSON keys
  p99_ns: number | null;
  samples: number;
  error?: string;
}

/**
 * Turns a finished tinybench task into a row, in whole nanoseconds (the timer is no finer).
 *
 * @example A measured task
 * ```ts
 * import assert from "node:assert/strict";
 * import { Bench } from "tinybench";
 * import { rowFromTask } from "./_report.ts";
 *
 * const bench = new Bench({ time: 1, iterations: 4, warmup: false, throws: true });
 * bench.add("noop", () => {}, { async: false });
 * await bench.run();
 * const row = rowFromTask(bench.tasks[0]!);
 * assert.equal(row.state === "measured" && row.samples >= 4, true);
 * ```
 */
export function rowFromTask(task: Task): Row {
  const result = task.result;
  if (
    result.state === "completed" || result.state === "aborted-with-statistics"
  ) {
    return {
      name: task.name,
      state: "measured",
      p50Ns: Math.round(mToNs(result.latency.p50)),
      meanNs: Math.round(mToNs(result.latency.mean)),
      p99Ns: Math.round(mToNs(result.latency.p99)),
      samples: result.latency.samplesCount,
    };
  }
  const reason = result.state === "errored"
    ? result.error.message
    : `the task ended as "${result.state}"`;
  return { name: task.name, state: "failed", reason };
}

/**
 * Maps rows to the JSON file's object, one key per task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toJson } from "./_report.ts";
 *
 * assert.deepEqual(
 *   toJson([{ name: "a", state: "measured", p50Ns: 2, meanNs: 3, p99Ns: 9, samples: 64 }]),
 *   { a: { p50_ns: 2, mean_ns: 3, p99_ns: 9, samples: 64 } },
 * );
 * ```
 */
export function toJson(rows: readonly Row[]): Record<string, JsonEntry> {
  const json: Record<string, JsonEntry> = {};
  for (const row of rows) {
    json[row.name] = row.state === "measured"
      ? {
        p50_ns: row.p50Ns,
        mean_ns: row.meanNs,
        p99_ns: row.p99Ns,
        samples: row.samples,
      }
      : {
        p50_ns: null,
        mean_ns: null,
        p99_ns: null,
        samples: 0,
        error: `${row.state}: ${row.reason}`,
      };
  }
  return json;
}

/**
 * The inverse of {@linkcode toJson}, renaming each task with `suffix`.
 *
 * @example Read back a pinned run
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromJson } from "./_report.ts";
 *
 * const rows = fromJson({ a: { p50_ns: 1, mean_ns: 1, p99_ns: 2, samples: 8 } }, "-pinned");
 * assert.equal(rows[0]?.name, "a-pinned");
 * ```
 */
export function fromJson(json: Record<string, JsonEntry>, suffix = ""): Row[] {
  return Object.entries(json).map(([name, entry]): Row => {
    if (
      entry.p50_ns !== null && entry.mean_ns !== null && entry.p99_ns !== null
    ) {
      return {
        name: name + suffix,
        state: "measured",
        p50Ns: entry.p50_ns,
        meanNs: entry.mean_ns,
        p99Ns: entry.p99_ns,
        samples: entry.samples,
      };
    }
    const [state, ...rest] = (entry.error ?? "failed: no result").split(": ");
    return {
      name: name + suffix,
      state: state === "unavailable" ? "unavailable" : "failed",
      reason: rest.join(": "),
    };
  });
}

/**
 * Formats nanoseconds with three significant digits and a unit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNs } from "./_report.ts";
 *
 * assert.equal(formatNs(95_400), "95.4 µs");
 * assert.equal(formatNs(1_234_567_890), "1.23 s");
 * ```
 */
export function formatNs(ns: number): string {
  // 999.6 µs would print as "1.00e+3 µs": move to the next unit once rounding would reach 1000.
  const units = [[1, "ns"], [1e3, "µs"], [1e6, "ms"], [1e9, "s"]] as const;
  let [scale, unit]: readonly [number, string] = units[0];
  for (const candidate of units) {
    if (ns / candidate[0] >= 0.9995) [scale, unit] = candidate;
  }
  return `${(ns / scale).toPrecision(3)} ${unit}`;
}

/**
 * Rows in report order: known tasks first, each followed by its pinned run, then anything else.
 *
 * @example Order
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortRows } from "./_report.ts";
 *
 * const row = (name: string) => ({ name, state: "unavailable" as const, reason: "" });
 * const sorted = sortRows([row("pool-step-pinned"), row("extra"), row("pool-step"), row("direct-call")]);
 * assert.deepEqual(sorted.map((r) => r.name), ["direct-call", "pool-step", "pool-step-pinned", "extra"]);
 * ```
 */
export function sortRows(rows: readonly Row[]): Row[] {
  const rank = (name: string): number => {
    const base = name.endsWith(PINNED_SUFFIX)
      ? name.slice(0, -PINNED_SUFFIX.length)
      : name;
    const index = TASK_ORDER.indexOf(base);
    return (index === -1 ? TASK_ORDER.length : index) * 2 +
      (base === name ? 0 : 1);
  };
  return [...rows].sort((a, b) => rank(a.name) - rank(b.name));
}

/** A comparison worked out on this run's rows. */
export interface Check {
  comparison: Comparison;
  /** `undefined` when either side was not measured. */
  ratio: number | undefined;
  /** `undefined` without a target or a ratio. */
  ok: boolean | undefined;
}

/**
 * Works out every comparison whose task ran in this run.
 *
 * @example One target
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAll } from "./_report.ts";
 *
 * const row = (name: string, p50Ns: number) =>
 *   ({ name, state: "measured" as const, p50Ns, meanNs: p50Ns, p99Ns: p50Ns, samples: 1 });
 * const [check] = checkAll([row("cli-hello", 60e6), row("deno-run-empty", 20e6)]);
 * assert.equal(check?.ratio, 3);
 * assert.equal(check?.ok, true);
 * ```
 */
export function checkAll(rows: readonly Row[]): Check[] {
  const p50 = new Map(
    rows.flatMap((
      row,
    ) => (row.state === "measured" ? [[row.name, row.p50Ns] as const] : [])),
  );
  const names = new Set(rows.map((row) => row.name));
  return COMPARISONS.filter((comparison) => names.has(comparison.task)).map(
    (comparison) => {
      const task = p50.get(comparison.task);
      const floor = p50.get(comparison.floor);
      const ratio = task === undefined || floor === undefined || floor === 0
        ? undefined
        : task / (floor * (comparison.times ?? 1));
      const ok = ratio === undefined || comparison.target === undefined
        ? undefined
        : meets(ratio, comparison.target);
      return { comparison, ratio, ok };
    },
  );
}

function formatRatio(ratio: number): string {
  return ratio >= 100
    ? `${ratio.toFixed(0)}x`
    : ratio >= 10
    ? `${ratio.toFixed(1)}x`
    : `${ratio.toFixed(2)}x`;
}

function formatTarget(target: Target): string {
  return `${target.op} ${target.value}x`;
}

function floorText(comparison: Comparison): string {
  return comparison.times === undefined
    ? comparison.floor
    : `${comparison.times} × ${comparison.floor}`;
}

function status(check: Check): string {
  if (check.comparison.target === undefined) return "";
  return check.ok === undefined ? "n/a" : check.ok ? "ok" : "MISS";
}

/**
 * The report: one Markdown table of every task (p50, mean, p99, samples, the ratio to its floor,
 * the target and whether it is met), then the list of every target.
 *
 * @example A task and its floor
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderReport } from "./_report.ts";
 *
 * const row = (name: string, p50Ns: number) =>
 *   ({ name, state: "measured" as const, p50Ns, meanNs: p50Ns, p99Ns: p50Ns, samples: 1 });
 * const report = renderReport([row("cli-hello", 120e6), row("deno-run-empty", 20e6)]);
 * assert.match(report, /\| cli-hello .*6\.00x deno-run-empty .*<= 5x .*MISS/);
 * ```
 */
export function renderReport(rows: readonly Row[]): string {
  const sorted = sortRows(rows);
  const checks = checkAll(sorted);
  const primary = new Map<string, Check>();
  for (const check of checks) {
    if (!primary.has(check.comparison.task)) {
      primary.set(check.comparison.task, check);
    }
  }
  const table: string[][] = [[
    "task",
    "p50",
    "mean",
    "p99",
    "samples",
    "vs floor (p50)",
    "target",
    "",
  ]];
  for (const row of sorted) {
    const check = primary.get(row.name);
    if (row.state !== "measured") {
      table.push([
        row.name,
        `${
          row.state === "unavailable" ? "not available" : "FAILED"
        }: ${row.reason}`,
      ]);
      continue;
    }
    table.push([
      row.name,
      formatNs(row.p50Ns),
      formatNs(row.meanNs),
      formatNs(row.p99Ns),
      String(row.samples),
      check?.ratio === undefined
        ? ""
        : `${formatRatio(check.ratio)} ${floorText(check.comparison)}`,
      check?.comparison.target === undefined
        ? ""
        : formatTarget(check.comparison.target),
      check === undefined ? "" : status(check),
    ]);
  }
  // Below the table: every target, and every comparison the table's one column could not show.
  const targeted = checks.filter((check) =>
    check.comparison.target !== undefined ||
    primary.get(check.comparison.task) !== check
  );
  const lines = [markdownTable(table)];
  if (targeted.length > 0) {
    lines.push("", "Targets and other ratios (p50, same run):");
  }
  for (const check of targeted) {
    const { comparison } = check;
    const label = comparison.label ??
      `${comparison.task} / ${floorText(comparison)}`;
    const ratio = check.ratio === undefined
      ? "not measured"
      : formatRatio(check.ratio);
    const target = comparison.target === undefined
      ? ""
      : ` (target ${formatTarget(comparison.target)})`;
    const mark = comparison.target === undefined ? "info" : status(check);
    lines.push(`- ${mark.padEnd(4)} ${label}: ${ratio}${target}`);
  }
  return lines.join("\n");
}

/** Renders rows as a Markdown table; a short row's last cell spans the remaining columns. */
function markdownTable(table: string[][]): string {
  const columns = table[0]?.length ?? 0;
  const widths = Array.from(
    { length: columns },
    (_, column) =>
      Math.max(
        3,
        ...table.filter((row) => row.length === columns).map((row) =>
          (row[column] ?? "").length
        ),
      ),
  );
  const line = (row: string[]): string => {
    if (row.length < columns) return `| ${row.join(" | ")} |`;
    return `| ${
      row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")
    } |`;
  };
  const [header, ...body] = table;
  return [
    line(header ?? []),
    `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`,
    ...body.map(line),
  ]
    .join("\n");
}
