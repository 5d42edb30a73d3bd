// deno-lint-ignore-file no-console -- a command-line script: printing is its job
/**
 * Runs the shared conformance vectors against stepbox.
 *
 * Usage: `deno task conformance [--fixtures FILE] [--isolation inline|step|pool] [DIR...]`
 *
 * DIR defaults to `../shared/conformance` next to the repository. Each failure is printed with
 * the case name, what was expected and what happened; the last line is `N passed, M failed`.
 * Exit status 1 when any case failed or a directory is missing, 2 on bad usage.
 *
 * @module
 */

import { createExecutor } from "../src/sandbox/select.ts";
import type { Isolation } from "../src/types.ts";
import {
  CONTRADICTS_DESIGN,
  DEFAULT_CONFORMANCE_DIR,
  defaultFixturesUrl,
  directoryExists,
  loadConformanceCases,
  runConformanceCase,
} from "./_conformance_runner.ts";

function usage(message: string): never {
  console.error(`${message}
Usage: deno task conformance [--fixtures FILE] [--isolation inline|step|pool] [DIR...]`);
  Deno.exit(2);
}

// `deno task` runs in the repository root; relative paths on the command line mean the
// directory the command was typed in, which deno task passes as INIT_CWD.
function absolutePath(path: string): string {
  if (path.startsWith("/")) return path;
  const base = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  return `${base}/${path}`;
}

const dirs: string[] = [];
let fixtures: string | undefined;
let isolation: Isolation = "inline";
const args = [...Deno.args];
while (args.length > 0) {
  const arg = args.shift() as string;
  if (arg === "--fixtures" || arg.startsWith("--fixtures=")) {
    const value = arg.includes("=")
      ? arg.slice(arg.indexOf("=") + 1)
      : args.shift();
    if (value === undefined || value === "") usage("--fixtures needs a file");
    fixtures = new URL(`file://${absolutePath(value)}`).href;
  } else if (arg === "--isolation" || arg.startsWith("--isolation=")) {
    const value = arg.includes("=")
      ? arg.slice(arg.indexOf("=") + 1)
      : args.shift();
    if (value !== "inline" && value !== "step" && value !== "pool") {
      usage(`--isolation must be inline, step or pool, found "${value ?? ""}"`);
    }
    isolation = value;
  } else if (arg === "--help" || arg === "-h") {
    usage("Runs the conformance vectors.");
  } else if (arg.startsWith("-")) {
    usage(`Unknown option "${arg}"`);
  } else {
    dirs.push(absolutePath(arg));
  }
}
if (dirs.length === 0) {
  dirs.push(decodeURIComponent(DEFAULT_CONFORMANCE_DIR.pathname));
}

let passed = 0;
let failed = 0;
let skipped = 0;
let missing = false;
const executor = await createExecutor(isolation);
try {
  for (const dir of dirs) {
    if (!directoryExists(dir)) {
      console.error(
        `Conformance vectors not found: the directory "${dir}" does not exist; pass the directory that holds cases/*.json`,
      );
      missing = true;
      continue;
    }
    const fixturesUrl = fixtures ?? defaultFixturesUrl(dir);
    for (const one of loadConformanceCases(dir)) {
      const result = await runConformanceCase(one, { fixturesUrl, executor });
      const conflict = CONTRADICTS_DESIGN[one.name];
      if (result.ok && conflict !== undefined) {
        skipped++;
        console.log(
          `SKIP ${one.name} (${one.file}): this vector ${conflict.reason}; stepbox gives DESIGN.md's result ${
            JSON.stringify(conflict.expect)
          }`,
        );
        continue;
      }
      if (result.ok) {
        passed++;
        continue;
      }
      failed++;
      console.log(`FAIL ${one.name} (${one.file})`);
      console.log(`  expected: ${result.expected}`);
      console.log(`  actual:   ${result.actual}`);
    }
  }
} finally {
  await executor.close();
}
console.log(
  `${passed} passed, ${failed} failed${
    skipped > 0 ? `, ${skipped} skipped` : ""
  }`,
);
Deno.exit(failed > 0 || missing ? 1 : 0);
