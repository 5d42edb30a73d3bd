/**
 * Runs the whole test suite (`deno test` over src/ and tests/, with doc examples) and ends with
 * one line `N passed, M failed` totalled over every runner, so CI and people read one verdict.
 *
 * Usage: `deno task test [extra deno test args...]`
 *
 * @module
 */

const args = Deno.args.length > 0 ? Deno.args : ["src/", "tests/"];
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
const passed = count("passed");
const failed = count("failed");
const ignored = count("ignored");
const crashed = summary === undefined || (!status.success && failed === 0);
const totalFailed = crashed ? Math.max(failed, 1) : failed;
const skipped = ignored > 0 ? `, ${ignored} skipped` : "";
const verdict = `${passed} passed, ${totalFailed} failed${skipped}`;
Deno.stdout.writeSync(new TextEncoder().encode(`\n${verdict}\n`));
Deno.exit(status.success && !crashed ? 0 : 1);
