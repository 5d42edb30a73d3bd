import assert from "node:assert/strict";
import {
  ImportMapError,
  OutputNotCloneableError,
  PolicyError,
  ReferenceResolutionError,
  StepExecutionError,
  StepTimeoutError,
  StepValidationError,
  TemplateError,
} from "../../src/errors.ts";
import { planFirstCall, runStep, runSteps } from "../../src/core/run_steps.ts";
import { createInlineExecutor } from "../../src/sandbox/inline.ts";
import { createMemoryValueSource } from "../../src/values/memory.ts";
import type {
  CallOptions,
  Executor,
  ExecutorInfo,
  StepTarget,
} from "../../src/sandbox/executor.ts";
import type { RunOptions, Step, StepEvent } from "../../src/types.ts";

const STEPS_URL = new URL("./_steps.ts", import.meta.url).href;
const IMPORT_MAP = { t: STEPS_URL };

interface Recorded {
  executor: Executor;
  calls: {
    target: StepTarget;
    inputs: Record<string, unknown>;
    options: CallOptions;
  }[];
  prepared: { target: StepTarget; options: CallOptions }[];
  log: string[];
  closed: () => number;
}

/** The real inline executor, with every call, hint and close recorded. */
function recording(info: Partial<ExecutorInfo> = {}): Recorded {
  const base = createInlineExecutor();
  const calls: Recorded["calls"] = [];
  const prepared: Recorded["prepared"] = [];
  const log: string[] = [];
  let closed = 0;
  const executor: Executor = {
    info: { ...base.info, ...info },
    async call(target, inputs, options) {
      calls.push({ target, inputs, options });
      log.push(`call ${target.exportName}`);
      try {
        return await base.call(target, inputs, options);
      } finally {
        log.push(`done ${target.exportName}`);
      }
    },
    prepare(target, options) {
      prepared.push({ target, options });
      log.push(`prepare ${target.exportName}`);
    },
    close() {
      closed++;
      return base.close();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
  return { executor, calls, prepared, log, closed: () => closed };
}

function options(recorded: Recorded, extra: RunOptions = {}): RunOptions {
  return { importMap: IMPORT_MAP, executor: recorded.executor, ...extra };
}

/** Runs `steps` expecting a StepExecutionError whose cause is `causeClass`; nothing may run. */
async function assertRejectedBeforeRunning(
  steps: Step[],
  expected: {
    index: number;
    reference: string;
    cause: new (...a: never[]) => Error;
    pattern: RegExp;
  },
  extra: RunOptions = {},
) {
  const recorded = recording();
  await assert.rejects(
    runSteps(steps, options(recorded, extra)),
    (error: Error) => {
      assert.ok(error instanceof StepExecutionError, String(error));
      assert.equal(
        error.message,
        `Encountered error while running ${expected.reference}`,
      );
      assert.equal(error.stepIndex, expected.index);
      assert.ok(error.cause instanceof expected.cause, String(error.cause));
      assert.match((error.cause as Error).message, expected.pattern);
      return true;
    },
  );
  assert.deepEqual(recorded.calls, []);
}

const GOOD: Step = { "t.echo": { id: "first", x: 1 } };

Deno.test("runSteps() runs steps in order, storing outputs under ids and merged flat", async () => {
  const recorded = recording();
  const outputs = await runSteps(
    [GOOD, null, {}, { "t.echo": { y: "{{ first.x }}", z: "n={{ x }}" } }],
    options(recorded),
  );
  assert.deepEqual(outputs, { first: { x: 1 }, x: 1, y: 1, z: "n=1" });
});

Deno.test("runSteps() validates every step before running the first", async () => {
  const cases: [
    Step,
    {
      cause: new (...a: never[]) => Error;
      pattern: RegExp;
      reference?: string;
    },
  ][] = [
    [{ "t.echo": {}, "t.fail": {} }, {
      cause: StepValidationError,
      pattern: /Step has unexpected additional keys: t\.fail/,
    }],
    [{ "t.echo": 5 } as unknown as Step, {
      cause: StepValidationError,
      pattern: /inputs must be a mapping/,
    }],
    [{ "t.echo": { id: 1 } }, {
      cause: StepValidationError,
      pattern: /"id" must be a string/,
    }],
    [{ "t.echo": { when: new Date(0) } }, {
      cause: StepValidationError,
      pattern: /input "when" is a Date/,
    }],
    [{ "t.echo": { f: () => 1 } }, {
      cause: StepValidationError,
      pattern: /input "f" is a function/,
    }],
    [{ "t.echo": { permissions: { network: true } } }, {
      cause: StepValidationError,
      pattern: /unknown permission kind/,
    }],
    [{ "nonexistent.module": {} }, {
      cause: ReferenceResolutionError,
      pattern: /tried "nonexistent"/,
      reference: "nonexistent.module",
    }],
    [{ "t.echo": { requires: ["p>=1.0rc1"] } }, {
      cause: ImportMapError,
      pattern: /Cannot use requires "p>=1\.0rc1" of step 2/,
    }],
    [{ "t.echo": { permissions: { net: ["api.example.com"] } } }, {
      cause: PolicyError,
      pattern: /--allow-net=api\.example\.com/,
    }],
  ];
  for (const [bad, expected] of cases) {
    await assertRejectedBeforeRunning([GOOD, GOOD, bad], {
      index: 2,
      reference: expected.reference ?? "t.echo",
      cause: expected.cause,
      pattern: expected.pattern,
    });
  }
});

Deno.test("runSteps() names both steps of a requires conflict and runs nothing", async () => {
  await assertRejectedBeforeRunning(
    [
      { "t.echo": { requires: "slugify@1.6.6" } },
      GOOD,
      { "t.concat": { requires: ["npm:slugify@1.6.5"] } },
    ],
    {
      index: 2,
      reference: "t.concat",
      cause: ImportMapError,
      pattern:
        /step 0 "t\.echo" maps "slugify" to "https:\/\/esm\.sh\/slugify@1\.6\.6" but step 2 "t\.concat" maps it to "npm:slugify@1\.6\.5"/,
    },
  );
});

Deno.test("runSteps() fails closed when the executor cannot enforce a grant", async () => {
  await assertRejectedBeforeRunning(
    [GOOD, { "t.echo": { permissions: { net: ["h.example"] } } }],
    {
      index: 1,
      reference: "t.echo",
      cause: PolicyError,
      pattern:
        /granted net \["h\.example"\], but the "inline" executor cannot enforce permissions.*policy\.allowUnenforced/,
    },
    { policy: { allow: { net: true } } },
  );
  const recorded = recording();
  const outputs = await runSteps(
    [{ "t.echo": { permissions: { net: ["h.example"] }, ok: true } }],
    options(recorded, {
      policy: { allow: { net: true }, allowUnenforced: true },
    }),
  );
  assert.deepEqual(outputs, { ok: true });
  assert.deepEqual(recorded.calls[0]?.options.permissions, {
    net: ["h.example"],
  });
});

Deno.test("runSteps() passes the grant, the import map, the policy and its env to the executor", async () => {
  const recorded = recording({ enforcesPermissions: true });
  await runSteps(
    [{ "t.echo": { permissions: { read: ["/srv"] }, timeout: 2 } }, {
      "t.echo": {},
    }],
    options(recorded, {
      env: { TEMPLATE_ONLY: "x" },
      policy: { allow: { read: true }, env: { LANG: "C" }, memoryMb: 64 },
      timeout: 9,
      workingDirectory: "/srv",
    }),
  );
  const [first, second] = recorded.calls;
  assert.deepEqual(first?.options.permissions, { read: ["/srv"] });
  assert.equal(first?.options.importMap.t, STEPS_URL);
  assert.deepEqual(first?.options.env, { LANG: "C" });
  assert.deepEqual(first?.options.policy, {
    allow: { read: true },
    env: { LANG: "C" },
    memoryMb: 64,
  });
  assert.equal(first?.options.timeoutMs, 2000);
  assert.equal(first?.options.workingDirectory, "/srv");
  assert.deepEqual(second?.options.permissions, {});
  assert.equal(second?.options.timeoutMs, 9000);
});

Deno.test("runSteps() mutates nothing the caller passes in", async () => {
  const steps: Step[] = [
    {
      "t.mutate": {
        id: "m",
        data: "{{ shared }}",
        block: "{{ prefect.blocks.json.cfg }}",
        v: "{{ prefect.variables.obj }}",
      },
    },
    { "t.mutate": { again: "{{ m.data }}", env: "{{ $HOME_DIR }}" } },
  ];
  const upstreamOutputs = { shared: { deep: [1] } };
  const variables = { obj: { k: "v" } };
  const blocks = [{
    id: "1",
    blockTypeSlug: "json",
    name: "cfg",
    data: { value: { a: 1 } },
  }];
  const env = { HOME_DIR: "/h" };
  const importMap = { ...IMPORT_MAP };
  const before = structuredClone({
    steps,
    upstreamOutputs,
    variables,
    blocks,
    env,
    importMap,
  });
  const outputs = await runSteps(steps, {
    importMap,
    upstreamOutputs,
    env,
    values: createMemoryValueSource({ variables, blocks }),
    executor: createInlineExecutor(),
  });
  assert.deepEqual({
    steps,
    upstreamOutputs,
    variables,
    blocks,
    env,
    importMap,
  }, before);
  assert.equal((outputs.m as Record<string, unknown>).added, true);
  assert.deepEqual(outputs.shared, { deep: [1] });
  assert.notEqual(outputs.shared, upstreamOutputs.shared);
});

Deno.test("runSteps() reuses the plan of steps run again unchanged, and plans any change afresh", async () => {
  const recorded = recording({ enforcesPermissions: true });
  const steps: Step[] = [{
    "t.echo": { permissions: { read: ["/srv"] }, list: [1, { a: "x" }] },
  }];
  const allow = { read: ["/srv", "/tmp"] };
  const run = (extra: RunOptions = {}) =>
    runSteps(steps, options(recorded, { policy: { allow }, ...extra }));
  const targetOf = (call: number) => recorded.calls[call]?.target;

  // A list run once is only noted; from its second run on, its plan is kept.
  await run();
  await run();
  assert.deepEqual(await run(), { list: [1, { a: "x" }] });
  // The same plan: the executor is handed the very same target.
  assert.equal(targetOf(2), targetOf(1));

  // A change deep in the inputs is seen, and planned again.
  const inputs =
    (steps[0] as Record<string, Record<string, unknown>>)["t.echo"]!;
  ((inputs.list as unknown[])[1] as Record<string, unknown>).a = "y";
  assert.deepEqual(await run(), { list: [1, { a: "y" }] });
  assert.notEqual(targetOf(3), targetOf(2));
  // So is a new key order.
  delete inputs.permissions;
  inputs.permissions = { read: ["/srv"] };
  assert.deepEqual(Object.keys((await run()) as object), ["list"]);
  assert.notEqual(targetOf(4), targetOf(3));

  // An equal list put in the place of one the plan holds is planned again: the step must get
  // the list that is there now, not the old one, whatever became of it.
  const list = inputs.list as unknown[];
  inputs.list = structuredClone(list);
  list[0] = "stale";
  assert.deepEqual(await run(), { list: [1, { a: "y" }] });

  // A change that makes a step invalid fails validation, as on a first run.
  inputs.extra = undefined;
  await assert.rejects(
    run(),
    (error: Error) => error.cause instanceof StepValidationError,
  );
  delete inputs.extra;
  await run();

  // A narrower ceiling is checked again, whether changed in place or passed anew.
  allow.read.pop();
  allow.read[0] = "/other";
  await assert.rejects(
    run(),
    (error: Error) =>
      error.cause instanceof PolicyError &&
      /requests read \["\/srv"\] beyond/.test(error.cause.message),
  );
  await assert.rejects(
    run({ policy: { allow: { read: ["/srv2"] } } }),
    (error: Error) => error.cause instanceof PolicyError,
  );
  allow.read[0] = "/srv";
  // Equal settings in new objects are the same settings.
  const fresh = () => run({ policy: { allow: { read: ["/srv"] } } });
  await fresh();
  const before = recorded.calls.length;
  await fresh();
  assert.equal(targetOf(before), targetOf(before - 1));

  // So are the import map and the base URL the steps resolve against.
  const relative: Step[] = [{ "./_steps.ts#echo": { n: 1 } }];
  const baseUrl = new URL("./", import.meta.url);
  await runSteps(relative, options(recorded, { baseUrl }));
  baseUrl.pathname = "/elsewhere/";
  await assert.rejects(runSteps(relative, options(recorded, { baseUrl })));
  assert.equal(
    recorded.calls.at(-1)?.target.specifier,
    "file:///elsewhere/_steps.ts",
  );
  await assert.rejects(
    runSteps(steps, {
      executor: recorded.executor,
      policy: { allow },
      importMap: { t: "file:///nowhere/steps.ts" },
    }),
  );
  assert.equal(
    recorded.calls.at(-1)?.target.specifier,
    "file:///nowhere/steps.ts",
  );
});

Deno.test("runSteps() reuses the plan that planFirstCall() made of the same list", async () => {
  const recorded = recording();
  const steps: Step[] = [{ "t.echo": { x: 1 } }, { "t.echo": { y: 2 } }];
  const first = planFirstCall(steps, options(recorded));
  assert.deepEqual(await runSteps(steps, options(recorded)), { x: 1, y: 2 });
  assert.equal(recorded.calls[0]?.target, first?.target);
});

Deno.test("runSteps() emits events with unresolved inputs and masks secrets in errors", async () => {
  const events: StepEvent[] = [];
  const secrets: string[] = [];
  const values = createMemoryValueSource({
    blocks: [{
      id: "1",
      blockTypeSlug: "secret",
      name: "token",
      data: { value: "s3cr3t-value" },
    }],
  });
  const recorded = recording();
  await assert.rejects(
    runSteps(
      [
        {
          "t.echo": {
            id: "one",
            token: "{{ prefect.blocks.secret.token }}",
            requires: [],
          },
        },
        { "t.leakInError": { token: "{{ one.token }}" } },
      ],
      options(recorded, {
        values,
        onEvent: (e) => events.push(e),
        onSecret: (s) => secrets.push(s),
      }),
    ),
    StepExecutionError,
  );
  assert.deepEqual(secrets, ["s3cr3t-value"]);
  assert.deepEqual(events.map((e) => e.type), [
    "step.started",
    "step.completed",
    "step.started",
    "step.failed",
  ]);
  const [started, completed, , failed] = events;
  assert.deepEqual(started?.inputs, {
    token: "{{ prefect.blocks.secret.token }}",
  });
  assert.equal(started?.id, "one");
  assert.equal(started?.name, "echo");
  assert.equal(started?.reference, "t.echo");
  assert.equal(started?.index, 0);
  assert.ok(
    completed?.type === "step.completed" &&
      completed.outputKeys.includes("token"),
  );
  assert.ok(failed?.type === "step.failed");
  assert.equal(failed.index, 1);
  assert.deepEqual(failed.error, { name: "Error", message: "bad token ***" });
  assert.ok(!JSON.stringify(events).includes("s3cr3t-value"));
});

Deno.test("runSteps() prints the step name before each step", async () => {
  const more: string[] = [];
  await runSteps(
    [GOOD, { "t.slow": { ms: 1 } }],
    options(recording(), { print: (l) => more.push(l) }),
  );
  assert.deepEqual(more, [
    " > Running echo step...",
    " > Running slow step...",
  ]);
});

Deno.test("runSteps() retries a failed step with a fresh call", async () => {
  const recorded = recording();
  const key = crypto.randomUUID();
  const outputs = await runSteps(
    [{ "t.flaky": { key, failures: 2, retries: 2 } }],
    options(recorded),
  );
  assert.deepEqual(outputs, { attempts: 3 });
  assert.equal(recorded.calls.length, 3);

  const again = recording();
  await assert.rejects(
    runSteps([{
      "t.flaky": { key: crypto.randomUUID(), failures: 5, retries: 1 },
    }], options(again)),
    (error: Error) => (error.cause as Error).message === "attempt 2 failed",
  );
  assert.equal(again.calls.length, 2);
});

Deno.test("runSteps() does not retry resolution, template or permission failures", async () => {
  const missingExport = recording();
  await assert.rejects(
    runSteps([{ "t.doesNotExist": { retries: 3 } }], options(missingExport)),
    (error: Error) => error.cause instanceof ReferenceResolutionError,
  );
  assert.equal(missingExport.calls.length, 1);

  const notFunction = recording();
  await assert.rejects(
    runSteps([{ "t.notAFunction": { retries: 3 } }], options(notFunction)),
    (error: Error) =>
      /is number, not a function/.test((error.cause as Error).message),
  );
  assert.equal(notFunction.calls.length, 1);

  const template = recording();
  await assert.rejects(
    runSteps([{
      "t.echo": { retries: 3, b: "{{ prefect.blocks.secret.gone }}" },
    }], options(template)),
    (error: Error) => error.cause instanceof TemplateError,
  );
  assert.equal(template.calls.length, 0);
});

Deno.test("runSteps() fails a step past its timeout", async () => {
  const started = performance.now();
  await assert.rejects(
    runSteps([{ "t.slow": { ms: 2000, timeout: 0.05 } }], options(recording())),
    (error: Error) =>
      error.cause instanceof StepTimeoutError &&
      (error.cause as StepTimeoutError).timeoutMs === 50,
  );
  assert.ok(performance.now() - started < 1500);
  await new Promise((resolve) => setTimeout(resolve, 2000)); // let the abandoned step end
});

Deno.test("runSteps() keeps a step's error intact as the cause", async () => {
  await assert.rejects(
    runSteps([{ "t.failTyped": {} }], options(recording())),
    (error: Error) => {
      const cause = error.cause as Error & { code?: string };
      assert.equal(cause.name, "DeployError");
      assert.equal(cause.code, "E_DEPLOY");
      assert.equal((cause.cause as Error).message, "disk full");
      return true;
    },
  );
});

Deno.test("runSteps() refuses an output that cannot cross a worker boundary, naming the key path", async () => {
  await assert.rejects(
    runSteps([{ "t.returnsFunction": {} }], options(recording())),
    (error: Error) => {
      assert.ok(error.cause instanceof OutputNotCloneableError);
      assert.equal(
        (error.cause as OutputNotCloneableError).keyPath,
        "result.handler",
      );
      return true;
    },
  );
});

Deno.test("runSteps() switches the run's working directory after set_working_directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    const recorded = recording();
    const outputs = await runSteps(
      [
        {
          "prefect.deployments.steps.set_working_directory": {
            directory: "sub",
          },
        },
        { "t.echo": { where: "{{ directory }}" } },
      ],
      options(recorded, {
        workingDirectory: dir,
        policy: { allow: { read: true }, allowUnenforced: true },
      }),
    );
    const real = await Deno.realPath(`${dir}/sub`);
    assert.equal(await Deno.realPath(outputs.where as string), real);
    assert.equal(recorded.calls[0]?.options.workingDirectory, dir);
    const after = recorded.calls[1]?.options.workingDirectory as string;
    assert.equal(await Deno.realPath(after), real);
    assert.equal(Deno.cwd() === after, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runSteps() hints the next step to the executor before awaiting the current one", async () => {
  const recorded = recording();
  await runSteps(
    [{ "t.slow": { ms: 5 } }, { "t.echo": {} }, { "t.concat": {} }],
    options(recorded),
  );
  assert.deepEqual(recorded.log, [
    "call slow",
    "prepare echo",
    "done slow",
    "call echo",
    "prepare concat",
    "done echo",
    "call concat",
    "done concat",
  ]);
  assert.equal(recorded.prepared[0]?.target.specifier, STEPS_URL);
  assert.equal(recorded.closed(), 0, "a caller's executor is not closed");
});

Deno.test("runSteps() rejects with the abort reason, unwrapped", async () => {
  const aborted = recording();
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    runSteps([GOOD], options(aborted, { signal: controller.signal })),
    (error: Error) => error.name === "AbortError",
  );
  assert.equal(aborted.calls.length, 0);

  const midway = recording();
  const later = new AbortController();
  const reason = new Error("stop");
  setTimeout(() => later.abort(reason), 20);
  await assert.rejects(
    runSteps(
      [{ "t.slow": { ms: 300, retries: 3 } }, GOOD],
      options(midway, { signal: later.signal }),
    ),
    (error: Error) => error === reason,
  );
  assert.equal(midway.calls.length, 1);
  assert.equal(midway.calls[0]?.options.signal, later.signal);
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the abandoned step end
});

Deno.test("runSteps() creates and closes an inline executor when asked for inline isolation", async () => {
  const outputs = await runSteps([GOOD], {
    importMap: IMPORT_MAP,
    isolation: "inline",
  });
  assert.deepEqual(outputs, { first: { x: 1 }, x: 1 });
});

Deno.test("runSteps() rejects arguments of the wrong shape", async () => {
  await assert.rejects(runSteps("t.echo" as unknown as Step[]), TypeError);
  await assert.rejects(
    runSteps([], {
      upstreamOutputs: { f: () => 1 } as unknown as Record<string, unknown>,
    }),
    /"f" cannot be copied/,
  );
  await assert.rejects(
    runSteps([], { upstreamOutputs: [] as unknown as Record<string, unknown> }),
    /expected a plain object/,
  );
});

Deno.test("runStep() returns the raw output and throws the step's own error", async () => {
  const executor = createInlineExecutor();
  assert.equal(
    await runStep({ "t.concat": { a: "{{ x }}", b: 2 } }, {
      importMap: IMPORT_MAP,
      executor,
      upstreamOutputs: { x: "1" },
    })
      .then((o) => (o as { result: string }).result),
    "12",
  );
  assert.equal(await runStep({}, { executor }), undefined);
  await assert.rejects(
    runStep({ "t.fail": { message: "boom" } }, {
      importMap: IMPORT_MAP,
      executor,
    }),
    /^Error: boom$/,
  );
  await assert.rejects(
    runStep({ "t.echo": {}, "x.y": {} }, {
      importMap: IMPORT_MAP,
      executor,
      index: 7,
    }),
    (error: Error) =>
      error instanceof StepValidationError && error.stepIndex === 7,
  );
});

Deno.test("runSteps() checks its options before doing anything", async () => {
  const recorded = recording();
  await assert.rejects(
    runSteps(
      [GOOD],
      options(recorded, {
        policy: { allow: { net: "yes" as unknown as boolean } },
      }),
    ),
    /^TypeError: Cannot use the policy\.allow option: "net" must be true, false or a list/,
  );
  await assert.rejects(
    runSteps([GOOD], options(recorded, { timeout: -1 })),
    /Cannot use the timeout option/,
  );
  await assert.rejects(
    runSteps(
      [GOOD],
      options(recorded, { isolation: "thread" as unknown as "step" }),
    ),
    /Cannot use the isolation option/,
  );
  assert.equal(recorded.calls.length, 0);
});

Deno.test("runSteps() shares one frozen copy of the inputs between a step's events", async () => {
  const events: StepEvent[] = [];
  const inputs = { list: [{ name: "{{ $WHO }}" }] };
  const outputs = await runSteps(
    [{ "t.echo": inputs }],
    options(recording(), {
      env: { WHO: "ada" },
      onEvent(event) {
        events.push(event);
        // A listener that tries to change the step: its error is dropped, the run goes on.
        (event.inputs.list as { name: string }[])[0]!.name = "changed";
      },
    }),
  );
  assert.deepEqual(outputs, { list: [{ name: "ada" }] });
  const [started, completed] = events;
  assert.equal(started?.inputs, completed?.inputs);
  assert.ok(Object.isFrozen(started?.inputs.list));
  assert.deepEqual(completed?.inputs, { list: [{ name: "{{ $WHO }}" }] });
  assert.deepEqual(inputs, { list: [{ name: "{{ $WHO }}" }] });
});

Deno.test("runSteps() tells the executor when the inputs are plain JSON data", async () => {
  const recorded = recording();
  const shared = { k: 1 };
  await runSteps(
    [
      { "t.echo": { list: [1, "a", { b: null }] } },
      { "t.echo": { a: shared, b: shared } },
      { "t.echo": { n: Number.NaN } },
      { "t.echo": { x: "{{ missing }}" } },
    ],
    options(recorded),
  );
  assert.deepEqual(
    recorded.calls.map((call) => call.options.jsonSafeInputs === true),
    [true, true, false, false],
  );
  // Inputs with no placeholder are handed over as they are, not copied.
  assert.equal(recorded.calls[1]?.inputs.a, shared);
});
