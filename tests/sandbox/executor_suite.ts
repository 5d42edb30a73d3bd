/**
 * One behaviour suite for every executor backend: outputs come back, errors keep their class,
 * props and cause, timeouts and aborts terminate the worker, a dead worker rejects at once, and
 * a missing export names the reference. Each backend's test file calls
 * {@linkcode runExecutorSuite}, skipping what it cannot do with a stated reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertProcessGone, waitForPid } from "../_processes.ts";
import type { SandboxExecutor } from "../../src/sandbox/host_client.ts";
import type {
  CallOptions,
  Executor,
  StepTarget,
} from "../../src/sandbox/executor.ts";

/** The cases of the suite, by name. */
export type SuiteCase =
  | "outputs"
  | "structured outputs"
  | "large payload"
  | "large structured output"
  | "large binary output"
  | "shared and cyclic output"
  | "typed errors"
  | "thrown non-errors"
  | "missing export"
  | "export not a function"
  | "uncloneable output"
  | "timeout"
  | "abort"
  | "dead worker"
  | "builtin context"
  | "printed output"
  | "stopped commands";

/** Options of {@linkcode runExecutorSuite}. */
export interface ExecutorSuiteOptions {
  /** Names the backend in test names, e.g. `createSandboxExecutor({ isolation: "step" })`. */
  name: string;
  /** Creates a fresh executor for one test; the suite closes it. */
  createExecutor(): Executor;
  /** Cases this backend cannot run, each with the reason. */
  skip?: Partial<Record<SuiteCase, string>>;
  /** Counts the workers still alive, for the termination cases; omit when there are none. */
  countWorkers?(executor: Executor): Promise<number>;
}

const FIXTURES = new URL("../fixtures/steps/", import.meta.url);

/** A target for an export of a fixture module in tests/fixtures/steps/. */
export function fixtureTarget(
  file: string,
  exportName: string,
  builtin = false,
): StepTarget {
  return {
    reference: `./${file}#${exportName}`,
    specifier: new URL(file, FIXTURES).href,
    exportName,
    builtin,
  };
}

/** Call options with nothing granted and no environment, plus `overrides`. */
export function callOptions(overrides: Partial<CallOptions> = {}): CallOptions {
  return {
    permissions: {},
    importMap: {},
    env: {},
    policy: { allow: {}, env: {} },
    ...overrides,
  };
}

/** Registers the suite's `Deno.test` cases for one backend. */
export function runExecutorSuite(options: ExecutorSuiteOptions): void {
  function test(
    name: SuiteCase,
    title: string,
    fn: (executor: Executor) => Promise<void>,
  ): void {
    const reason = options.skip?.[name];
    Deno.test({
      name: `${options.name} ${title}${reason ? ` (skipped: ${reason})` : ""}`,
      ignore: reason !== undefined,
      async fn() {
        const executor = options.createExecutor();
        try {
          await fn(executor);
        } finally {
          await executor.close();
        }
      },
    });
  }

  async function assertNoWorkers(executor: Executor): Promise<void> {
    if (options.countWorkers === undefined) return;
    // terminate() is synchronous in the host, but its stats arrive over the socket.
    assert.equal(await options.countWorkers(executor), 0);
  }

  test("outputs", "returns the step's output", async (executor) => {
    const output = await executor.call(
      fixtureTarget("returns_object.ts", "returnsObject"),
      { name: "ada", nested: { list: [1, "two", null] } },
      callOptions(),
    );
    assert.deepEqual(output, {
      greeting: "hello ada",
      inputs: { name: "ada", nested: { list: [1, "two", null] } },
    });
  });

  test(
    "structured outputs",
    "returns Dates, Maps, typed arrays and undefined intact",
    async (executor) => {
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "returnsStructured"),
        {},
        callOptions(),
      ) as Record<string, unknown>;
      assert.deepEqual(output, {
        when: new Date(0),
        map: new Map([["a", 1]]),
        bytes: new Uint8Array([1, 2, 3]),
        missing: undefined,
      });
      assert.ok("missing" in output);
    },
  );

  test(
    "large payload",
    "round-trips a 1 MB input and output",
    async (executor) => {
      const payload = {
        items: Array.from({ length: 8000 }, (_, i) => ({
          id: i,
          name: `item ${i}`,
          text: "x".repeat(100),
        })),
      };
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "echoPayload"),
        { payload },
        callOptions(),
      ) as { payload: unknown; length: number };
      assert.ok(output.length > 1_000_000);
      assert.deepEqual(output.payload, payload);
    },
  );

  test(
    "large structured output",
    "returns a large output with Dates, bytes, undefined and -0 intact",
    async (executor) => {
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "returnsLargeStructured"),
        {},
        callOptions(),
      ) as Record<string, unknown>;
      assert.deepEqual(output, {
        rows: Array.from({ length: 3000 }, (_, i) => ({ i, text: `row ${i}` })),
        when: new Date(0),
        bytes: new Uint8Array(40_000).fill(7),
        missing: undefined,
        zero: -0,
      });
      assert.ok(Object.is(output.zero, -0));
      assert.ok("missing" in output);
    },
  );

  test(
    "large binary output",
    "returns 8 MB of bytes as bytes",
    async (executor) => {
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "returnsLargeBytes"),
        {},
        callOptions(),
      ) as { rows: unknown[]; data: Uint8Array };
      assert.equal(output.rows.length, 3000);
      assert.ok(output.data instanceof Uint8Array);
      assert.equal(output.data.length, 8_000_000);
      assert.ok(output.data.every((byte) => byte === 1));
    },
  );

  test(
    "shared and cyclic output",
    "returns an object reached twice once, and a cycle as a cycle",
    async (executor) => {
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "returnsGraph"),
        {},
        callOptions(),
      ) as Record<string, unknown>;
      assert.deepEqual(output.first, { name: "shared" });
      assert.equal(output.first, output.second);
      assert.equal(output.self, output);
    },
  );

  test(
    "typed errors",
    "rejects with the step's error class, code, props and cause chain",
    async (executor) => {
      type Rebuilt = Error & {
        code?: string;
        details?: unknown;
        cause: Error & { status?: number; cause: Error };
      };
      const error: Rebuilt = await executor.call(
        fixtureTarget("throws_typed.ts", "throwsTyped"),
        { message: "deploy to prod failed" },
        callOptions(),
      ).then(() => assert.fail("expected a rejection"), (e) => e);
      assert.ok(error instanceof Error);
      assert.equal(error.name, "DeployError");
      assert.equal(error.message, "deploy to prod failed");
      assert.equal(error.code, "E_DEPLOY");
      assert.deepEqual(error.details, { attempt: 3 });
      assert.match(error.stack ?? "", /throws_typed\.ts/);
      assert.ok(error.cause instanceof TypeError);
      assert.equal(error.cause.message, "upload failed");
      assert.equal(error.cause.status, 507);
      assert.ok(error.cause.cause instanceof RangeError);
      assert.equal(error.cause.cause.message, "disk quota exceeded");
      // A rejection after an await is the same as a throw.
      await assert.rejects(
        executor.call(
          fixtureTarget("throws_typed.ts", "rejectsAsync"),
          {},
          callOptions(),
        ),
        (error: Error) => {
          assert.equal(error.name, "Error");
          assert.equal(error.message, "async failure");
          assert.match(error.stack ?? "", /throws_typed\.ts/);
          return true;
        },
      );
    },
  );

  test(
    "thrown non-errors",
    "rejects with a thrown string or object as it was",
    async (executor) => {
      await assert.rejects(
        executor.call(
          fixtureTarget("throws_typed.ts", "throwsString"),
          {},
          callOptions(),
        ),
        (thrown) => thrown === "plain text thrown",
      );
      await assert.rejects(
        executor.call(
          fixtureTarget("throws_typed.ts", "throwsObject"),
          {},
          callOptions(),
        ),
        (thrown) => {
          assert.deepEqual(thrown, { reason: "object thrown", retry: false });
          return true;
        },
      );
    },
  );

  test(
    "missing export",
    "names the reference, the specifier and the exports found for a missing export",
    async (executor) => {
      const target = fixtureTarget("returns_object.ts", "doesNotExist");
      await assert.rejects(
        executor.call(target, {}, callOptions()),
        (error: Error & { reference?: string; specifier?: string }) => {
          assert.equal(error.name, "ReferenceResolutionError");
          assert.equal(error.reference, target.reference);
          assert.equal(error.specifier, target.specifier);
          assert.match(error.message, /doesNotExist/);
          assert.match(error.message, /returns_object\.ts/);
          assert.match(error.message, /"returnsObject"/);
          return true;
        },
      );
    },
  );

  test(
    "export not a function",
    "names the export that is not a function",
    async (executor) => {
      await assert.rejects(
        executor.call(
          fixtureTarget("returns_object.ts", "notAFunction"),
          {},
          callOptions(),
        ),
        (error: Error) => {
          assert.equal(error.name, "ReferenceResolutionError");
          assert.match(error.message, /"notAFunction".*number, not a function/);
          return true;
        },
      );
    },
  );

  test(
    "uncloneable output",
    "names the key path of a function in the output",
    async (executor) => {
      await assert.rejects(
        executor.call(
          fixtureTarget("returns_object.ts", "returnsFunction"),
          {},
          callOptions(),
        ),
        (error: Error & { keyPath?: string }) => {
          assert.equal(error.name, "OutputNotCloneableError");
          assert.equal(error.keyPath, "result.items[1].handler");
          assert.match(
            error.message,
            /"result\.items\[1\]\.handler" is a function/,
          );
          return true;
        },
      );
    },
  );

  test(
    "timeout",
    "terminates a step that loops forever after its timeout",
    async (executor) => {
      const started = performance.now();
      await assert.rejects(
        executor.call(
          fixtureTarget("hangs.ts", "hang"),
          {},
          callOptions({ timeoutMs: 1000 }),
        ),
        (error: Error & { timeoutMs?: number }) => {
          assert.equal(error.name, "StepTimeoutError");
          assert.equal(error.timeoutMs, 1000);
          assert.match(error.message, /timed out after 1 s/);
          return true;
        },
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 950 && elapsed < 2500, `took ${elapsed} ms`);
      await assertNoWorkers(executor);
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "returnsObject"),
        { name: "after" },
        callOptions(),
      );
      assert.equal((output as { greeting: string }).greeting, "hello after");
    },
  );

  test(
    "abort",
    "rejects at once and terminates the worker when the signal aborts",
    async (executor) => {
      const controller = new AbortController();
      const call = executor.call(
        fixtureTarget("hangs.ts", "hang"),
        {},
        callOptions({ signal: controller.signal }),
      );
      setTimeout(() => controller.abort(), 200);
      const started = performance.now();
      await assert.rejects(call, (error: Error) => {
        assert.equal(error.name, "AbortError");
        return true;
      });
      assert.ok(performance.now() - started < 1000);
      // The host terminates the worker when the cancel message arrives.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await assertNoWorkers(executor);
      await assert.rejects(
        executor.call(
          fixtureTarget("returns_object.ts", "returnsObject"),
          {},
          callOptions({ signal: controller.signal }),
        ),
        (error: Error) => error.name === "AbortError",
      );
    },
  );

  test(
    "dead worker",
    "rejects at once when the worker dies instead of answering",
    async (executor) => {
      for (const name of ["throwsLater", "closesWorker", "exitsWorker"]) {
        const started = performance.now();
        await assert.rejects(
          executor.call(fixtureTarget("dies.ts", name), {}, callOptions()),
          (error: Error & { moduleUrl?: string }) => {
            assert.equal(error.name, "SandboxError", `${name}: ${error}`);
            assert.match(error.moduleUrl ?? "", /dies\.ts$/);
            return true;
          },
        );
        assert.ok(performance.now() - started < 2000, name);
      }
      await assertNoWorkers(executor);
    },
  );

  test(
    "builtin context",
    "gives built-in steps a context whose write streams to onOutput",
    async (executor) => {
      const chunks: Array<{ stream: string; text: string }> = [];
      const output = await executor.call(
        fixtureTarget("returns_object.ts", "usesContext", true),
        {},
        callOptions({
          workingDirectory: "/srv/app",
          env: { GREETING: "hi" },
          onOutput: (chunk) => chunks.push(chunk),
        }),
      );
      assert.deepEqual(output, {
        workingDirectory: "/srv/app",
        envKeys: ["GREETING"],
      });
      assert.deepEqual(chunks, [
        { stream: "stdout", text: "line one\n" },
        { stream: "stderr", text: "line two\n" },
      ]);
    },
  );
  test(
    "printed output",
    "gives each call what its step printed by any console method or stdio write, before its answer, when calls run side by side",
    async (executor) => {
      const printed = new Map<string, string[]>();
      await Promise.all(["one", "two"].map(async (text) => {
        const chunks: string[] = [];
        printed.set(text, chunks);
        await executor.call(
          fixtureTarget("returns_object.ts", "printsEveryWay"),
          { text },
          callOptions({
            onOutput: (chunk) => chunks.push(`${chunk.stream}: ${chunk.text}`),
          }),
        );
        // Everything arrived before the answer: nothing is waited for here.
        assert.deepEqual(chunks, [
          `stdout: log ${text} 42% { n: 1 }\n`,
          `stderr: error ${text}\n`,
          `stdout: group ${text}\n`,
          `stderr:   indented\n`,
          `stdout: ${text}: 1\n`,
          [
            "stdout: ┌───────┬───────┐",
            "│ (idx) │ text  │",
            "├───────┼───────┤",
            `│     0 │ "${text}" │`,
            "└───────┴───────┘\n",
          ].join("\n"),
          `stdout: stdout ${text}\n`,
          `stderr: stderr ${text}\n`,
          `stdout: writable ${text}\n`,
        ]);
      }));
      assert.equal(printed.size, 2);
    },
  );
  test(
    "stopped commands",
    "ends the commands of a built-in stopped by a timeout, an abort or close(), and what they started",
    async (executor) => {
      const dir = await Deno.makeTempDir({ prefix: "stepbox-commands-" });
      try {
        const stopped = async (
          executor: Executor,
          how: string,
          extra: Partial<CallOptions>,
          stop: (controller: AbortController) => unknown,
        ) => {
          const pidFile = `${dir}/${how}.pid`;
          const controller = new AbortController();
          // The command starts a process in the background and waits for it.
          const call = executor.call(
            BUILTIN_SHELL,
            { script: `sh -c "sleep 30 & echo $! > ${pidFile}; wait"` },
            shellOptions({ signal: controller.signal, ...extra }),
          );
          call.catch(() => {});
          const pid = await waitForPid(pidFile);
          // What is stopped ends the commands its host was told of (see README: a command
          // started in the instant before its host dies can be missed).
          await toldOfCommand(executor);
          await stop(controller);
          await assert.rejects(call);
          await assertProcessGone(pid, `after ${how}`);
        };
        await stopped(executor, "timeout", { timeoutMs: 1000 }, () => {});
        await stopped(
          executor,
          "abort",
          {},
          (controller) => controller.abort(),
        );
        const closing = options.createExecutor();
        await stopped(closing, "close", {}, () => closing.close());
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

/** The built-in `run_shell_script`, as the suite's command cases call it. */
export const BUILTIN_SHELL: StepTarget = {
  reference: "prefect.deployments.steps.run_shell_script",
  specifier: new URL("../../src/steps/run_shell_script.ts", import.meta.url)
    .href,
  exportName: "run_shell_script",
  builtin: true,
};

/** What the shell built-in needs: `run` and `read`, and a PATH to find `sh`. */
export function shellOptions(overrides: Partial<CallOptions>): CallOptions {
  const granted = Object.freeze({ run: true, read: true });
  return callOptions({
    permissions: granted,
    policy: { allow: granted, env: {} },
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    workingDirectory: Deno.cwd(),
    ...overrides,
  });
}

/** Waits until a sandbox executor's parent side has been told of a running command. */
async function toldOfCommand(executor: Executor): Promise<void> {
  if (!("stats" in executor)) return;
  const count = async () =>
    (await (executor as SandboxExecutor).stats()).hosts.reduce(
      (sum, host) => sum + host.runningCommands,
      0,
    );
  for (let i = 0; i < 200 && await count() === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.notEqual(await count(), 0, "the parent was told of the command");
}

/** The live workers of every host of a sandbox executor: what the suite's `countWorkers` asks. */
export async function countWorkers(executor: Executor): Promise<number> {
  const stats = await (executor as SandboxExecutor).stats();
  return stats.hosts.reduce((sum, host) => sum + host.liveWorkers, 0);
}
