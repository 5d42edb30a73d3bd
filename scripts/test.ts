/**
 * Runs the whole test suite and ends with one line `N passed, M failed` totalled over every
 * runner, so CI and people read one verdict:
 *
 * - `deno test` over src/ and tests/, with doc examples;
 * - then the npm package on Node: `dist/` is built (`scripts/build_npm.ts`) and
 *   `tests/node/*.node.mjs` run with `node --test`.
 *
 * Usage: `deno task test [deno test args...]` (with arguments, only `deno test` runs, with them)
 *
 * @module
 */

import { buildNpm } from "./build_npm.ts";

const whole = Deno.args.length === 0;
const args = whole ? ["src/", "tests/"] : Deno.args;
// CLI runs in tests keep their launch cache here, not in the user's cache directory.
const launchCache = await Deno.makeTempDir({ prefix: "stepbox-test-launch-" });
const command = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", "--parallel", "--doc", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1", STEPBOX_CACHE_DIR: launchCache },
});
const child = command.spawn();
const decoder = new TextDecoder();
let tail = "";
for await (const chunk of child.stdout) {
  const text = decoder.decode(chunk, { stream: true });
  await Deno.stdout.write(chunk);
  tail = (tail + text).slice(-4096);
}
const status = await child.status;
await Deno.remove(launchCache, { recursive: true }).catch(() => {});

// deno test's summary: "ok | 12 passed (3 steps) | 0 failed | 1 ignored (2s)"
const summary = tail.split("\n").reverse().find((line) =>
  /\d+ passed/.test(line) && /\d+ failed/.test(line)
);
const count = (word: string) =>
  Number(summary?.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
let passed = count("passed");
let failed = count("failed");
const ignored = count("ignored");
if (summary === undefined || (!status.success && failed === 0)) {
  failed = Math.max(failed, 1);
}
if (whole) {
  const node = await runNodeTests();
  passed += node.passed;
  failed += node.failed;
}
const skipped = ignored > 0 ? `, ${ignored} skipped` : "";
const verdict = `${passed} passed, ${failed} failed${skipped}`;
Deno.stdout.writeSync(new TextEncoder().encode(`\n${verdict}\n`));
Deno.exit(failed === 0 ? 0 : 1);

/** Builds `dist/` and runs the Node tests on it; a build or a run that breaks counts as failed. */
async function runNodeTests(): Promise<{ passed: number; failed: number }> {
  const root = new URL("../", import.meta.url);
  const say = (text: string) =>
    Deno.stdout.writeSync(new TextEncoder().encode(`${text}\n`));
  say("\nThe npm package on Node (node --test tests/node/*.node.mjs):");
  try {
    await buildNpm(new URL("dist/", root).pathname);
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    return { passed: 0, failed: 1 };
  }
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("tests/node/", root))) {
    if (entry.name.endsWith(".node.mjs")) {
      files.push(`tests/node/${entry.name}`);
    }
  }
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("node", {
      args: ["--test", "--test-reporter=tap", ...files.sort()],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (error) {
    say(`Cannot run node: ${error instanceof Error ? error.message : error}`);
    return { passed: 0, failed: 1 };
  }
  const tap = new TextDecoder().decode(output.stdout);
  await Deno.stdout.write(output.stdout);
  const number = (name: string) =>
    Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? NaN);
  const nodePassed = number("pass");
  const nodeFailed = number("fail");
  if (Number.isNaN(nodePassed) || Number.isNaN(nodeFailed)) {
    say("node --test printed no summary");
    return { passed: 0, failed: 1 };
  }
  const broke = !output.success && nodeFailed === 0;
  return { passed: nodePassed, failed: broke ? 1 : nodeFailed };
}
