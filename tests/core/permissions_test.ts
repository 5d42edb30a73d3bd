import assert from "node:assert/strict";
import { PolicyError, StepValidationError } from "../../src/errors.ts";
import {
  computeGrant,
  isEmptyGrant,
  validatePermissions,
} from "../../src/core/permissions.ts";
import type { BuiltinStep } from "../../src/steps/mod.ts";

// A built-in as the registry describes one; fixed here so the tests do not follow the
// registry's choices.
const SHELL: BuiltinStep = {
  name: "run_shell_script",
  moduleUrl: "file:///stepbox/steps/run_shell_script.ts",
  permissions: { run: true, read: true, env: true },
};

Deno.test("validatePermissions() accepts every kind with true, false or a list", () => {
  const all = {
    read: ["/tmp"],
    write: false,
    net: ["example.com:443"],
    env: ["HOME"],
    run: ["git"],
    sys: true,
    ffi: false,
    import: ["esm.sh"],
  };
  assert.deepEqual(validatePermissions(all, { stepIndex: 0 }), all);
});

Deno.test("validatePermissions() names the step and the fix for bad values", () => {
  const where = { stepIndex: 3, reference: "x.y" };
  for (
    const [value, pattern] of [
      [
        { all: true },
        /unknown permission kind "all"; the kinds are read, write/,
      ],
      [
        { net: 1 },
        /"net" must be true, false or a list of non-empty strings, found 1/,
      ],
      [{ read: [""] }, /"read" must be/],
      [{ read: [1] }, /"read" must be/],
      [null, /expected a mapping, found null/],
      ["all", /expected a mapping, found "all"/],
    ] as [unknown, RegExp][]
  ) {
    assert.throws(() => validatePermissions(value, where), (error: Error) => {
      assert.ok(error instanceof StepValidationError);
      assert.match(error.message, pattern);
      assert.match(error.message, /step 3 "x\.y"/);
      return true;
    });
  }
});

Deno.test("computeGrant() gives a third-party step nothing without a permissions keyword", () => {
  const grant = computeGrant({ index: 0, reference: "./a.ts#f" }, {
    ceiling: { net: true, read: true },
  });
  assert.deepEqual(grant, {});
  assert.equal(isEmptyGrant(grant), true);
});

Deno.test("computeGrant() allows requests within the ceiling", () => {
  const step = {
    index: 0,
    reference: "./a.ts#f",
    permissions: {
      read: ["/srv/app/data"],
      net: ["api.example.com:443"],
      env: ["AWS_REGION"],
      write: false,
    },
  };
  assert.deepEqual(
    computeGrant(step, {
      ceiling: { read: ["/srv/app"], net: ["api.example.com"], env: ["AWS_*"] },
    }),
    {
      read: ["/srv/app/data"],
      net: ["api.example.com:443"],
      env: ["AWS_REGION"],
    },
  );
});

Deno.test("computeGrant() refuses a request beyond the ceiling, naming step, permission, values and fix", () => {
  const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    [
      { net: ["api.example.com"] },
      {},
      /requests net \["api\.example\.com"\] beyond the run's ceiling net \[\]; raise the ceiling with --allow-net=api\.example\.com or the policy\.allow option \(\{ net: \["api\.example\.com"\] \}\)/,
    ],
    [
      { read: true },
      { read: ["/tmp"] },
      /requests read true beyond the run's ceiling read \["\/tmp"\]; raise the ceiling with --allow-read /,
    ],
    [{ read: ["/tmpx"] }, { read: ["/tmp"] }, /--allow-read=\/tmpx/],
    [{ net: ["h:80"] }, { net: ["h:443"] }, /--allow-net=h:80/],
    [{ run: ["git"] }, { read: true }, /requests run \["git"\] beyond/],
  ];
  for (const [permissions, ceiling, pattern] of cases) {
    assert.throws(
      () =>
        computeGrant({ index: 2, reference: "./a.ts#f", permissions }, {
          ceiling,
        }),
      (error: Error) => {
        assert.ok(error instanceof PolicyError);
        assert.match(error.message, /^Cannot run step 2 "\.\/a\.ts#f": /);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
});

Deno.test("computeGrant() gives a built-in its declared permissions within the ceiling", () => {
  const step = {
    index: 0,
    reference: "prefect.deployments.steps.run_shell_script",
  };
  assert.deepEqual(
    computeGrant(step, {
      builtin: SHELL,
      ceiling: { run: true, read: ["/srv"], env: true, net: true },
    }),
    { read: ["/srv"], env: true, run: true },
  );
});

Deno.test("computeGrant() holds nothing of the ceiling, which may change after", () => {
  const ceiling = { run: true, read: ["/srv"], env: true };
  const grant = computeGrant(
    { index: 0, reference: "prefect.deployments.steps.run_shell_script" },
    { builtin: SHELL, ceiling },
  );
  ceiling.read.push("/");
  assert.deepEqual(grant.read, ["/srv"]);
  assert.ok(Object.isFrozen(grant.read));
});

Deno.test("computeGrant() narrows a built-in with its permissions keyword", () => {
  const step = {
    index: 0,
    reference: "prefect.deployments.steps.run_shell_script",
    permissions: { run: ["git"], read: false, net: true },
  };
  assert.deepEqual(
    computeGrant(step, {
      builtin: SHELL,
      ceiling: { run: true, read: true, env: true, net: true },
    }),
    { run: ["git"] },
  );
});

Deno.test("computeGrant() refuses a built-in whose declared kind the ceiling lacks", () => {
  assert.throws(
    () =>
      computeGrant(
        { index: 1, reference: "prefect.deployments.steps.run_shell_script" },
        { builtin: SHELL, ceiling: { read: true, env: true } },
      ),
    (error: Error) =>
      error instanceof PolicyError &&
      /step 1 "prefect\.deployments\.steps\.run_shell_script": the built-in step "run_shell_script" needs run true but the run's ceiling grants no run; allow it with --allow-run or the policy\.allow option/
        .test(error.message),
  );
});
