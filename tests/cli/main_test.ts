// End-to-end: the real CLI in its own process, with the real sandbox.
import assert from "node:assert/strict";
import { assertProcessGone, waitForPid } from "../_processes.ts";

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("src/cli/main.ts", ROOT).pathname;
const CONFIG = new URL("deno.json", ROOT).pathname;
const FIXTURES = new URL("tests/fixtures/step_files/", ROOT).pathname;
const SECRET = "s3cr3t-t0ken-Zq9";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Sandbox {
  dir: string;
  store: string;
  cli(
    args: string[],
    options?: {
      cwd?: string;
      env?: Record<string, string>;
      stdin?: string;
      /** Once it resolves, Ctrl-C: SIGINT to the CLI's process group, as a terminal sends. */
      interruptWhen?: Promise<unknown>;
    },
  ): Promise<Result>;
}

/** Only what a process needs; the test's own environment (INIT_CWD, ...) stays out. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "LANG"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function withSandbox(
  fn: (sandbox: Sandbox) => Promise<void>,
): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "stepbox_cli_" }),
  );
  const store = `${dir}/store`;
  const sandbox: Sandbox = {
    dir,
    store,
    async cli(args, options = {}) {
      const started = performance.now();
      const command = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", CONFIG, MAIN, ...args],
        cwd: options.cwd ?? dir,
        env: {
          ...baseEnv(),
          STEPBOX_STORE: store,
          STEPBOX_CACHE_DIR: `${dir}/launch`,
          ...options.env,
        },
        clearEnv: true,
        stdin: options.stdin !== undefined ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
        // A process group of its own, for interruptWhen to signal.
        detached: options.interruptWhen !== undefined,
      });
      const child = command.spawn();
      void options.interruptWhen?.then(() => Deno.kill(-child.pid, "SIGINT"));
      if (options.stdin !== undefined) {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(options.stdin));
        await writer.close();
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const output = await child.output();
      clearTimeout(timer);
      return {
        code: output.code,
        stdout: new TextDecoder().decode(output.stdout),
        stderr: new TextDecoder().decode(output.stderr),
        ms: performance.now() - started,
      };
    },
  };
  try {
    await fn(sandbox);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function copyFixtures(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/steps`, { recursive: true });
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (entry.isFile) {
      await Deno.copyFile(`${FIXTURES}${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  await Deno.copyFile(`${FIXTURES}steps/echo.ts`, `${dir}/steps/echo.ts`);
}

function assertNoStack(result: Result): void {
  assert.doesNotMatch(result.stderr, /^\s+at .*:\d+:\d+\)?$/m, result.stderr);
  assert.doesNotMatch(
    result.stderr,
    /Uncaught|Stack backtrace|panicked/,
    result.stderr,
  );
}

Deno.test("stepbox run examples/hello.yaml runs the pipeline and prints the outputs", async () => {
  await withSandbox(async ({ cli }) => {
    const result = await cli(["run", "examples/hello.yaml"], {
      cwd: new URL(".", ROOT).pathname,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      hello: { greeting: "Hello, stepbox!" },
      greeting: "Hello, stepbox!",
      shouted: "HELLO, STEPBOX!",
      words: 4,
      characters: 31,
    });
    for (const name of ["greet", "shout", "count"]) {
      assert.match(
        result.stderr,
        new RegExp(
          ` > Running ${name} step\\.\\.\\.\\n ✓ ${name} completed in \\d+(\\.\\d)? m?s\\n`,
        ),
      );
    }
  });
});

Deno.test("stepbox run resolves the file and the store from INIT_CWD", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    await Deno.copyFile(`${dir}/valid_list.yaml`, `${dir}/stepbox.yaml`);
    const result = await cli(["run"], {
      cwd: new URL(".", ROOT).pathname,
      env: { INIT_CWD: dir },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).again, "hello");
  });
});

Deno.test("stepbox run masks a block secret in stdout, stderr and the events file", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    assert.equal(
      (await cli(["variable", "set", "region", "eu-west-3"])).code,
      0,
    );
    const set = await cli(
      ["block", "set", "secret/api-token", "--value", "-"],
      { stdin: `${SECRET}\n` },
    );
    assert.equal(set.code, 0, set.stderr);
    await Deno.writeTextFile(
      `${dir}/shell.yaml`,
      await Deno.readTextFile(`${dir}/secret.yaml`) +
        `- prefect.deployments.steps.run_shell_script:\n    id: shell\n    script: echo shell says {{ prefect.blocks.secret.api-token }}\n`,
    );
    const result = await cli(["run", "shell.yaml", "--events", "events.jsonl"]);
    assert.equal(result.code, 0, result.stderr);
    const events = await Deno.readTextFile(`${dir}/events.jsonl`);
    for (const text of [result.stdout, result.stderr, events]) {
      assert.ok(!text.includes(SECRET), text);
    }
    const outputs = JSON.parse(result.stdout);
    assert.equal(outputs.leak.leaked, "***");
    assert.equal(outputs.note, "Bearer ***");
    assert.equal(outputs.region, "eu-west-3");
    assert.match(result.stderr, /token is \*\*\*/);
    assert.match(result.stderr, /shell says \*\*\*/);
    const lines = events.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((event) => event.type), [
      "step.started",
      "step.completed",
      "step.started",
      "step.completed",
      "step.started",
      "step.completed",
    ]);
    assert.equal(
      lines[0].inputs.token,
      "{{ prefect.blocks.secret.api-token }}",
    );
  });
});

Deno.test("stepbox run masks the secret in a failing step's error and cause chain", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    await cli(["block", "set", "secret/api-token", "--value", SECRET]);
    const result = await cli([
      "run",
      "failing.yaml",
      "--events",
      "events.jsonl",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /error: failing\.yaml:3:3: step 1 "\.\/steps\/echo\.ts#fail" failed\n/,
    );
    assert.match(
      result.stderr,
      /StepExecutionError \[STEP_EXECUTION\]: Encountered error while running \.\/steps\/echo\.ts#fail/,
    );
    assert.match(
      result.stderr,
      /caused by: TypeError: outer failure with \*\*\*/,
    );
    assert.match(
      result.stderr,
      /caused by: Error \[E_INNER\]: inner failure with \*\*\*/,
    );
    const events = await Deno.readTextFile(`${dir}/events.jsonl`);
    assert.match(events, /"type":"step.failed"/);
    for (const text of [result.stdout, result.stderr, events]) {
      assert.ok(!text.includes(SECRET), text);
    }
    assertNoStack(result);
  });
});

Deno.test("stepbox variable set, then a step reads {{ prefect.variables.region }}", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    const set = await cli(["variable", "set", "region", "eu-west-3"]);
    assert.equal(set.code, 0, set.stderr);
    await Deno.writeTextFile(
      `${dir}/region.yaml`,
      '- ./steps/echo.ts#echo:\n    region: "{{ prefect.variables.region }}"\n',
    );
    const result = await cli(["run", "region.yaml"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).region, "eu-west-3");
    const get = await cli(["variable", "get", "region"]);
    assert.equal(get.stdout, '"eu-west-3"\n');
    const ls = await cli(["variable", "ls"]);
    assert.equal(ls.stdout, 'region\t"eu-west-3"\n');
  });
});

Deno.test("stepbox variable set: 20 concurrent invocations all survive", async () => {
  await withSandbox(async ({ cli, store }) => {
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => cli(["variable", "set", `name_${i}`, `value-${i}`]),
      ),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const ls = await cli(["variable", "ls"]);
    const lines = ls.stdout.trim().split("\n").sort();
    assert.equal(lines.length, 20);
    for (let i = 0; i < 20; i++) {
      assert.ok(lines.includes(`name_${i}\t"value-${i}"`), ls.stdout);
    }
    const leftovers = [];
    for await (const entry of Deno.readDir(`${store}/variables`)) {
      if (!entry.name.endsWith(".json")) leftovers.push(entry.name);
    }
    assert.deepEqual(leftovers, []);
  });
});

Deno.test("stepbox block set/get/ls/rm keeps the data secret unless --reveal", async () => {
  await withSandbox(async ({ cli }) => {
    const set = await cli([
      "block",
      "set",
      "aws-credentials/prod",
      "--json",
      `{"key": "${SECRET}"}`,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stderr.includes(SECRET));
    const get = await cli(["block", "get", "aws-credentials/prod"]);
    assert.deepEqual(JSON.parse(get.stdout).data, { key: "***" });
    const reveal = await cli([
      "block",
      "get",
      "aws-credentials/prod",
      "--reveal",
    ]);
    assert.deepEqual(JSON.parse(reveal.stdout).data, { key: SECRET });
    const ls = await cli(["block", "ls"]);
    assert.match(ls.stdout, /^aws-credentials\/prod\t[0-9a-f-]{36}\n$/);
    assert.equal((await cli(["block", "rm", "aws-credentials/prod"])).code, 0);
    assert.equal((await cli(["block", "get", "aws-credentials/prod"])).code, 1);
    const bad = await cli([
      "block",
      "set",
      "secret/x",
      "--json",
      `{"value": "${SECRET}"`,
    ]);
    assert.equal(bad.code, 2);
    assert.ok(!bad.stderr.includes(SECRET), bad.stderr);
  });
});

Deno.test("stepbox run reports step file typos as file:line:column, exit 2, no stack trace", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    const cases: [string, RegExp][] = [
      [
        "two_keys.yaml",
        /^two_keys\.yaml:3:5: Step has unexpected additional keys: directory\n$/,
      ],
      [
        "bad_indentation.yaml",
        /^bad_indentation\.yaml:3:4: Bad indentation of a mapping entry: /,
      ],
      [
        "unknown_section.yaml",
        /^unknown_section\.yaml:1:1: Unknown section "biuld": did you mean "build"\?\n$/,
      ],
    ];
    for (const [file, expected] of cases) {
      for (const command of ["run", "validate"]) {
        const result = await cli([command, file]);
        assert.equal(result.code, 2, `${command} ${file}: ${result.stderr}`);
        assert.match(result.stderr, expected);
        assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
        assertNoStack(result);
      }
    }
  });
});

Deno.test("stepbox run rejects bad input with exit 2 in bounded time, leaving the store intact", async () => {
  await withSandbox(async ({ cli, dir, store }) => {
    await copyFixtures(dir);
    assert.equal((await cli(["variable", "set", "keep", "me"])).code, 0);
    await Deno.mkdir(`${dir}/a_directory.yaml`);
    const huge = await Deno.open(`${dir}/huge.yaml`, {
      write: true,
      create: true,
    });
    await huge.truncate(50 * 1024 * 1024);
    huge.close();
    const cases: [string[], RegExp][] = [
      [
        ["run", "empty.yaml"],
        /^empty\.yaml:1:1: Cannot parse step file: it is empty/,
      ],
      [
        ["run", "missing.yaml"],
        /^missing\.yaml: Cannot read step file "missing\.yaml": it does not exist/,
      ],
      [["run", "a_directory.yaml"], /it is a directory/],
      [["run", "huge.yaml"], /it is 50 MiB, more than the limit of 16 MiB/],
      [
        ["run", "syntax_error.yaml"],
        /^syntax_error\.yaml:3:1: Cannot parse YAML: /,
      ],
      [
        ["run", "section_not_list.yaml"],
        /^section_not_list\.yaml:2:3: Section "pull" must be a list of steps, found a mapping/,
      ],
      [
        ["run", "billion_laughs.yaml"],
        /^billion_laughs\.yaml:2:\d+: Cannot parse step file: its aliases expand/,
      ],
      [
        ["run", "duplicate_keys.yaml"],
        /^duplicate_keys\.yaml:3:5: Duplicate key "a"/,
      ],
      [
        ["run", "valid_list.yaml", "--set", "novalue"],
        /^error: Flag "--set" needs key=value, found "novalue"/,
      ],
      [
        ["run", "valid_list.yaml", "--frobnicate"],
        /^error: Unknown flag "--frobnicate" for "stepbox run"/,
      ],
      [
        ["run", "valid_list.yaml", "--section", "pull"],
        /is a list of steps without sections; drop --section/,
      ],
      [[
        "run",
        "valid_sections.yaml",
        "--section",
        "build",
        "--vars-file",
        "nope.yaml",
      ], /Cannot read vars file: it does not exist/],
      [["frobnicate"], /^error: Unknown command "frobnicate"/],
      [["run"], /neither "stepbox\.yaml" nor "prefect\.yaml" exists/],
    ];
    for (const [args, expected] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, expected, args.join(" "));
      assert.ok(result.ms < 20_000, `${args.join(" ")} took ${result.ms} ms`);
      assertNoStack(result);
    }
    assert.equal((await cli(["variable", "get", "keep"])).stdout, '"me"\n');
    const entries = [];
    for await (const entry of Deno.readDir(`${store}/variables`)) {
      entries.push(entry.name);
    }
    assert.deepEqual(entries, ["keep.json"]);
  });
});

Deno.test("stepbox run runs build, push and pull in order with --set seeds", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    const all = await cli([
      "run",
      "valid_sections.yaml",
      "--set",
      "repository=https://example.com/r",
    ]);
    assert.equal(all.code, 0, all.stderr);
    const outputs = JSON.parse(all.stdout);
    assert.equal(outputs.pushed, "https://example.com/r");
    assert.equal(outputs.pulled, "https://example.com/r");
    const pull = await cli([
      "run",
      "valid_sections.yaml",
      "--section",
      "pull",
      "--set",
      "pushed=only",
    ]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(JSON.parse(pull.stdout).pulled, "only");
  });
});

Deno.test("stepbox run --vars-file keeps types and --set wins", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    await Deno.writeTextFile(
      `${dir}/vars.yaml`,
      "count: 3\nflag: true\nrepository: from-file\n",
    );
    await Deno.writeTextFile(
      `${dir}/typed.yaml`,
      '- ./steps/echo.ts#echo:\n    count: "{{ count }}"\n    flag: "{{ flag }}"\n    repository: "{{ repository }}"\n',
    );
    const result = await cli([
      "run",
      "typed.yaml",
      "--vars-file",
      "vars.yaml",
      "--set",
      "repository=from-flag",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const outputs = JSON.parse(result.stdout);
    assert.equal(outputs.count, 3);
    assert.equal(outputs.flag, true);
    assert.equal(outputs.repository, "from-flag");
  });
});

Deno.test("stepbox run --dry-run describes the steps and runs nothing", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    const result = await cli([
      "run",
      "failing.yaml",
      "--dry-run",
      "--events",
      "events.jsonl",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const described = JSON.parse(result.stdout);
    assert.equal(described.length, 2);
    assert.equal(described[1].reference, "./steps/echo.ts#fail");
    assert.equal(described[1].specifier, `file://${dir}/steps/echo.ts`);
    assert.equal(described[1].exportName, "fail");
    assert.deepEqual(described[1].inputs, {
      token: "{{ prefect.blocks.secret.api-token }}",
    });
    assert.equal(described[1].position, "failing.yaml:3:3");
    assert.doesNotMatch(result.stderr, /Running/);
    await assert.rejects(
      Deno.stat(`${dir}/events.jsonl`),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("stepbox run warns when the file grants run to a non-built-in step", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    await Deno.writeTextFile(
      `${dir}/risky.yaml`,
      "- ./steps/echo.ts#echo:\n    permissions:\n      run: [git]\n",
    );
    const result = await cli(["run", "risky.yaml"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /warning: risky\.yaml:1:3: step "\.\/steps\/echo\.ts#echo" is granted "run"/,
    );
    const explicit = await cli(["run", "risky.yaml", "--allow-read"]);
    assert.equal(explicit.code, 2, explicit.stderr);
    assert.doesNotMatch(explicit.stderr, /warning/);
    assert.match(
      explicit.stderr,
      /^risky\.yaml:1:3: Cannot run step 0 .*beyond the run's ceiling/m,
    );
    assertNoStack(explicit);
  });
});

Deno.test("stepbox run again starts its host early, and a file edited to grant less gets less", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await Deno.writeTextFile(`${dir}/data.txt`, "kept");
    await Deno.writeTextFile(
      `${dir}/peek.ts`,
      "export async function peek(i: { path: string }) { return { text: await Deno.readTextFile(i.path) }; }\n",
    );
    const granted =
      `- ./peek.ts#peek:\n    path: ${dir}/data.txt\n    permissions:\n      read: true\n`;
    await Deno.writeTextFile(`${dir}/peek.yaml`, granted);
    for (const attempt of [1, 2]) {
      const result = await cli([
        "run",
        "peek.yaml",
        "--set",
        `token=${SECRET}`,
      ]);
      assert.equal(result.code, 0, `run ${attempt}: ${result.stderr}`);
      assert.equal(JSON.parse(result.stdout).text, "kept");
    }
    const entries = [...Deno.readDirSync(`${dir}/launch`)];
    assert.equal(entries.length, 1);
    const entry = await Deno.readTextFile(`${dir}/launch/${entries[0]!.name}`);
    assert.match(entry, /--allow-read/);
    assert.ok(!entry.includes(SECRET), "--set values are not kept");

    // Same arguments, narrower file: the host started from the cache has --allow-read, and
    // must not be the one that runs the step.
    await Deno.writeTextFile(
      `${dir}/peek.yaml`,
      `- ./peek.ts#peek:\n    path: ${dir}/data.txt\n`,
    );
    const narrowed = await cli([
      "run",
      "peek.yaml",
      "--set",
      `token=${SECRET}`,
    ]);
    assert.equal(narrowed.code, 1, narrowed.stderr);
    assert.match(narrowed.stderr, /read access|NotCapable|PermissionDenied/i);
    assert.doesNotMatch(
      await Deno.readTextFile(`${dir}/launch/${entries[0]!.name}`),
      /--allow-read=[^"]*data|--allow-read"/,
    );

    // Turned off: the run works and keeps nothing.
    await Deno.remove(`${dir}/launch`, { recursive: true });
    await Deno.writeTextFile(`${dir}/peek.yaml`, granted);
    const off = await cli(["run", "peek.yaml"], {
      env: { STEPBOX_LAUNCH_CACHE: "0" },
    });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(JSON.parse(off.stdout).text, "kept");
    await assert.rejects(Deno.stat(`${dir}/launch`), Deno.errors.NotFound);
  });
});

Deno.test("stepbox --help works on every command, with examples", async () => {
  await withSandbox(async ({ cli }) => {
    for (
      const args of [["--help"], ["run", "--help"], ["validate", "--help"], [
        "variable",
        "--help",
      ], ["block", "--help"]]
    ) {
      const result = await cli(args);
      assert.equal(result.code, 0, args.join(" "));
      assert.match(result.stdout, /Examples:\n/);
    }
  });
});

Deno.test("stepbox run --timeout ends a hanging step with exit 1", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    await Deno.writeTextFile(
      `${dir}/hang.yaml`,
      "- ./steps/echo.ts#hang: {}\n",
    );
    const result = await cli(["run", "hang.yaml", "--timeout", "0.5"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /error: hang\.yaml:1:3: step 0 "\.\/steps\/echo\.ts#hang" failed/,
    );
    assert.match(result.stderr, /caused by: StepTimeoutError \[STEP_TIMEOUT\]/);
    assert.ok(result.ms < 20_000, `took ${result.ms} ms`);
    assertNoStack(result);
  });
});

Deno.test("stepbox run stops at Ctrl-C and leaves no command of a built-in step running", async () => {
  await withSandbox(async ({ cli, dir }) => {
    const pidFile = `${dir}/background.pid`;
    await Deno.writeTextFile(
      `${dir}/shell.yaml`,
      `- prefect.deployments.steps.run_shell_script:\n    script: sh -c "sleep 30 & echo $! > ${pidFile}; wait"\n`,
    );
    const pid = waitForPid(pidFile);
    const result = await cli(["run", "shell.yaml"], { interruptWhen: pid });
    assert.equal(result.code, 130, result.stderr);
    assert.ok(result.ms < 20_000, `took ${result.ms} ms`);
    assertNoStack(result);
    await assertProcessGone(await pid, "after Ctrl-C");
  });
});

Deno.test("stepbox run reads variables and blocks from PREFECT_API_URL", async () => {
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const url = new URL(request.url);
      seen.push(
        `${request.headers.get("authorization")} ${url.pathname}${url.search}`,
      );
      if (url.pathname === "/api/variables/name/region") {
        return Response.json({
          id: "v1",
          name: "region",
          value: "ap-south-1",
          tags: [],
        });
      }
      if (
        url.pathname ===
          "/api/block_types/slug/secret/block_documents/name/api-token"
      ) {
        return Response.json({
          id: "b1",
          name: "api-token",
          data: { value: SECRET },
          block_type: { slug: "secret" },
        });
      }
      return Response.json({ detail: "Not Found" }, { status: 404 });
    },
  );
  try {
    await withSandbox(async ({ cli, dir }) => {
      await copyFixtures(dir);
      const result = await cli(["run", "secret.yaml"], {
        env: {
          PREFECT_API_URL: `http://127.0.0.1:${server.addr.port}/api`,
          PREFECT_API_KEY: "pnu_test_key",
        },
      });
      assert.equal(result.code, 0, result.stderr);
      const outputs = JSON.parse(result.stdout);
      assert.equal(outputs.region, "ap-south-1");
      assert.equal(outputs.leaked, "***");
      assert.ok(!(result.stdout + result.stderr).includes(SECRET));
      assert.ok(!(result.stdout + result.stderr).includes("pnu_test_key"));
      assert.ok(
        seen.includes("Bearer pnu_test_key /api/variables/name/region"),
        seen.join("\n"),
      );
      assert.ok(
        seen.includes(
          "Bearer pnu_test_key /api/block_types/slug/secret/block_documents/name/api-token?include_secrets=true",
        ),
        seen.join("\n"),
      );
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("stepbox validate checks that every reference resolves", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await copyFixtures(dir);
    const ok = await cli(["validate", "valid_sections.yaml"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      ok.stderr,
      "valid_sections.yaml: valid (build: 0 steps, push: 1 step, pull: 1 step)\n",
    );
    await Deno.writeTextFile(
      `${dir}/unknown.yaml`,
      "- ./steps/echo.ts#echo: {}\n- nothing.here.f: {}\n",
    );
    const bad = await cli(["validate", "unknown.yaml"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^unknown\.yaml:2:3: Cannot resolve step reference "nothing\.here\.f"/,
    );
    assertNoStack(bad);
  });
});

Deno.test("stepbox run names a step module that does not exist in one clean line, nothing leaked", async () => {
  await withSandbox(async ({ cli, dir }) => {
    await Deno.writeTextFile(
      `${dir}/missing.yaml`,
      "- ./nope.ts#f:\n    a: 1\n",
    );
    const result = await cli(["run", "missing.yaml"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /Cannot load "file:\/\/\/[^"]*\/nope\.ts" for step "\.\/nope\.ts#f": Module not found "[^"]*"; check that the module exists/,
    );
    assertNoStack(result);
  });
});
