// deno-lint-ignore-file no-console -- a measurement script: printing its figures is its job.
/**
 * How much resident memory does a worker add? 50 bare Workers (every permission denied, one
 * message each, kept alive) against 50 warm `pool` workers of stepbox's sandbox host, each
 * running a different step module so that each gets its own worker. Target: a pooled worker adds
 * at most 1.15x what a bare one does.
 *
 * ```sh
 * deno run --allow-all bench/memory.ts [--count 50]
 * ```
 *
 * Each side runs in its own process and is read from `/proc/<pid>/status` (`VmRSS`): the bare
 * Workers in a child process started for the purpose, the pooled ones in the sandbox host. The
 * figure per worker is (RSS with 1 + COUNT workers - RSS with 1 worker) / COUNT, so the process
 * and the first worker's module graph are left out on both sides.
 *
 * @module
 */

import { childPids, type ProcStatus, settledStatus } from "./_proc.ts";
import { FIXTURES_URL, loadRunner, ROOT_URL } from "./_stepbox.ts";

const MIB = 1024 * 1024;

interface Measurement {
  before: ProcStatus;
  after: ProcStatus;
  count: number;
}

function perWorker(measurement: Measurement): number {
  return (measurement.after.rssBytes - measurement.before.rssBytes) /
    measurement.count;
}

function describe(label: string, measurement: Measurement): string {
  const { before, after, count } = measurement;
  return `| ${label} | ${(before.rssBytes / MIB).toFixed(1)} MiB | ${
    (after.rssBytes / MIB).toFixed(1)
  } MiB | ` +
    `+${after.threads - before.threads} (for ${count} workers) | ${
      (perWorker(measurement) / MIB).toFixed(2)
    } MiB |`;
}

async function measureBare(count: number): Promise<Measurement> {
  const script = new URL("memory_bare.ts", FIXTURES_URL).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, String(count)],
    cwd: ROOT_URL.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot measure bare workers: exit code ${code}: ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as Measurement;
}

async function measurePooled(count: number): Promise<Measurement | string> {
  // Room for every worker: the default pool keeps 8 per host and would end the others.
  const runner = await loadRunner("pool", { poolSize: count + 1 });
  if (!runner.ok) return runner.reason;
  const { runSteps, createExecutor } = runner.value;
  const dir = await Deno.makeTempDir({ prefix: "stepbox-memory-" });
  const executor = createExecutor();
  try {
    // One module per worker: the pool keeps one warm worker per module, permissions and import map.
    const source = await Deno.readTextFile(new URL("hello.ts", FIXTURES_URL));
    for (let i = 0; i <= count; i++) {
      await Deno.writeTextFile(`${dir}/hello_${i}.ts`, source);
    }
    const baseUrl = new URL(`file://${dir}/`);
    const call = (i: number) =>
      runSteps([{ [`./hello_${i}.ts#hello`]: { name: "memory" } }], {
        executor,
        baseUrl,
      });

    const existing = new Set(await childPids(Deno.pid));
    await call(0);
    const hosts = (await childPids(Deno.pid)).filter((pid) =>
      !existing.has(pid)
    );
    if (hosts.length === 0) {
      return "the pool executor started no child process to measure";
    }
    // The host is the child with the most threads (a Worker is a thread).
    const statuses = await Promise.all(
      hosts.map(async (pid) => ({ pid, status: await settledStatus(pid) })),
    );
    statuses.sort((a, b) => b.status.threads - a.status.threads);
    const host = statuses[0]?.pid as number;
    const first = await settledStatus(host);
    for (let i = 1; i <= count; i++) await call(i);
    const after = await settledStatus(host);
    return { before: first, after, count };
  } finally {
    await executor.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const countFlag = argv.indexOf("--count");
  const count = countFlag === -1 ? 50 : Number(argv[countFlag + 1]);
  if (!Number.isInteger(count) || count < 1) {
    console.error(
      `Cannot use --count "${
        argv[countFlag + 1]
      }": expected a positive whole number`,
    );
    return 2;
  }
  if (Deno.build.os !== "linux") {
    console.error(
      `Cannot measure memory on ${Deno.build.os}: this script reads Linux's /proc`,
    );
    return 2;
  }
  const bare = await measureBare(count);
  const pooled = await measurePooled(count);
  console.log(
    "| workers | RSS with 1 | RSS with 1 + N | threads | added per worker |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  console.log(describe("bare Worker", bare));
  if (typeof pooled === "string") {
    console.log(`| stepbox pool | not available: ${pooled} |`);
    return 0;
  }
  console.log(describe("stepbox pool (in the sandbox host)", pooled));
  const ratio = perWorker(pooled) / perWorker(bare);
  const ok = ratio <= 1.15 ? "ok" : "MISS";
  console.log(
    `\n- ${ok.padEnd(4)} pooled / bare worker RSS: ${
      ratio.toFixed(2)
    }x (target <= 1.15x)`,
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
