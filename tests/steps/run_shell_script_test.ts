import assert from "node:assert/strict";
import { pathExists } from "../../src/steps/_fs.ts";
import { run_shell_script } from "../../src/steps/run_shell_script.ts";
import { createContext, tempDir } from "./_helpers.ts";

// The cases below follow the examples of Prefect's run_shell_script documentation.

Deno.test("run_shell_script() runs a multi-line script line by line", async () => {
  await using dir = await tempDir();
  const result = await run_shell_script({
    script: 'echo "First line"\necho "Second line"\n',
  }, createContext(dir.path));
  assert.deepEqual(result, { stdout: "First line\nSecond line", stderr: "" });
});

Deno.test("run_shell_script() passes env to commands without expanding the script", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  // Prefect runs commands without a shell: `$NAME` reaches echo as written.
  assert.deepEqual(
    await run_shell_script({
      script: 'echo "Hello $NAME"',
      env: { NAME: "World" },
    }, context),
    { stdout: "Hello $NAME", stderr: "" },
  );
  assert.deepEqual(
    await run_shell_script(
      {
        script: "sh -c 'echo Hello $NAME, port $PORT'",
        env: { NAME: "World", PORT: 8080 },
      },
      context,
    ),
    { stdout: "Hello World, port 8080", stderr: "" },
  );
});

Deno.test("run_shell_script() expands $VAR and ${VAR} from the environment when asked", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path, { USER: "ada" });
  const result = await run_shell_script({
    script:
      'echo "User: $USER"\necho "Home Directory: ${HOME}"\necho $UNKNOWN_NAME $$',
    env: { EXTRA: "x" },
    stream_output: true,
    expand_env_vars: true,
  }, context);
  assert.equal(
    result.stdout,
    `User: ada\nHome Directory: ${dir.path}\n$UNKNOWN_NAME $`,
  );
});

Deno.test("run_shell_script() runs in directory, relative to the run's working directory", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/sub/inner`, { recursive: true });
  const context = createContext(dir.path);
  assert.equal(
    (await run_shell_script({ script: "pwd", directory: "sub/inner" }, context))
      .stdout,
    `${dir.path}/sub/inner`,
  );
  assert.equal(
    (await run_shell_script(
      { script: "pwd", directory: `${dir.path}/sub` },
      context,
    )).stdout,
    `${dir.path}/sub`,
  );
  assert.equal(
    (await run_shell_script({ script: "pwd" }, context)).stdout,
    dir.path,
  );
});

Deno.test("run_shell_script() runs a line through sh -c with shell: true, so pipes work", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  const result = await run_shell_script({
    script:
      "printf 'b\\na\\nc\\n' | sort | head -n 2\necho done > out.txt && cat out.txt",
    shell: true,
  }, context);
  assert.equal(result.stdout, "a\nb\ndone");
  // Without shell the pipe is just an argument.
  const plain = await run_shell_script({ script: "echo a | sort" }, context);
  assert.equal(plain.stdout, "a | sort");
});

Deno.test("run_shell_script() stops at a failing command with its exit code and stderr", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  await assert.rejects(
    run_shell_script({
      script: "echo one\nsh -c 'echo broken >&2; exit 7'\ntouch never-created",
      stream_output: false,
    }, context),
    (error: Error & { exitCode: number; stderr: string; stdout: string }) => {
      assert.equal(error.name, "CommandFailedError");
      assert.equal(
        error.message,
        "`run_shell_script` failed with error code 7: broken",
      );
      assert.equal(error.exitCode, 7);
      assert.equal(error.stderr, "broken");
      assert.equal(error.stdout, "one");
      return true;
    },
  );
  assert.equal(await pathExists(`${dir.path}/never-created`), false);
  await assert.rejects(
    run_shell_script({ script: "ls does-not-exist" }, context),
    (error: Error & { exitCode: number; stderr: string }) => {
      assert.notEqual(error.exitCode, 0);
      assert.match(error.stderr, /does-not-exist/);
      assert.match(
        error.message,
        /^`run_shell_script` failed with error code \d+: .*does-not-exist/,
      );
      return true;
    },
  );
});

Deno.test("run_shell_script() streams output live and always captures it", async () => {
  await using dir = await tempDir();
  const streamed = createContext(dir.path);
  const script = "echo out\nsh -c 'echo err >&2'";
  assert.deepEqual(await run_shell_script({ script }, streamed), {
    stdout: "out",
    stderr: "err",
  });
  assert.deepEqual(streamed.chunks, [
    { stream: "stdout", text: "out\n" },
    { stream: "stderr", text: "err\n" },
  ]);
  const quiet = createContext(dir.path);
  assert.deepEqual(
    await run_shell_script({ script, stream_output: false }, quiet),
    { stdout: "out", stderr: "err" },
  );
  assert.deepEqual(quiet.chunks, []);
});

Deno.test("run_shell_script() splits words like a POSIX shell", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  const result = await run_shell_script({
    script: `printf '[%s]' "a  b" 'c "d"' e\\ f "g\\"h" '' #x`,
  }, context);
  assert.equal(result.stdout, '[a  b][c "d"][e f][g"h][][#x]');
});

Deno.test("run_shell_script() skips blank and comment lines", async () => {
  await using dir = await tempDir();
  const result = await run_shell_script({
    script: "\n# a comment\n   \necho only\n",
  }, createContext(dir.path));
  assert.equal(result.stdout, "only");
});

Deno.test("run_shell_script() gives commands the run's environment only", async () => {
  await using dir = await tempDir();
  assert.ok(
    Object.keys(Deno.env.toObject()).some((key) =>
      !["PATH", "HOME"].includes(key)
    ),
    "the test process has variables that must not reach the command",
  );
  const context = createContext(dir.path, {
    FROM_RUN: "run",
    OVERRIDDEN: "run",
  });
  // `env` prints exactly the environment it was given.
  const result = await run_shell_script({
    script: "env",
    env: { OVERRIDDEN: "step" },
  }, context);
  assert.deepEqual(result.stdout.split("\n").sort(), [
    "FROM_RUN=run",
    `HOME=${dir.path}`,
    "OVERRIDDEN=step",
    `PATH=${context.env.PATH}`,
  ]);
});

Deno.test("run_shell_script() calls with different working directories run concurrently without interfering", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  const script = "sh -c 'sleep 0.2; pwd'\ntouch made-here\npwd";
  const [first, second] = await Promise.all([
    run_shell_script({ script }, createContext(a.path)),
    run_shell_script({ script }, createContext(b.path)),
  ]);
  assert.equal(first.stdout, `${a.path}\n${a.path}`);
  assert.equal(second.stdout, `${b.path}\n${b.path}`);
  assert.equal(await pathExists(`${a.path}/made-here`), true);
  assert.equal(await pathExists(`${b.path}/made-here`), true);
  assert.notEqual(Deno.cwd(), a.path);
});

Deno.test("run_shell_script() rejects bad input before running anything", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  await assert.rejects(run_shell_script({} as never, context), {
    name: "TypeError",
    message:
      'Cannot run run_shell_script: input "script" is required, found nothing; add "script: <value>" to the step',
  });
  await assert.rejects(
    run_shell_script({ script: 42 } as never, context),
    /input "script" must be a string, found a number/,
  );
  await assert.rejects(
    run_shell_script(
      { script: "echo", stream_output: "false" } as never,
      context,
    ),
    {
      message:
        'Cannot run run_shell_script: input "stream_output" must be a boolean, found a string; write false without quotes',
    },
  );
  await assert.rejects(
    run_shell_script(
      { script: "echo", env: { A: { b: 1 } } } as never,
      context,
    ),
    /input "env" must map names to strings, found a mapping for "A"/,
  );
  await assert.rejects(
    run_shell_script({ script: "echo", envs: {} } as never, context),
    /unknown input "envs"/,
  );
  await assert.rejects(
    run_shell_script({ script: 'touch first\necho "unclosed' }, context),
    (error: Error) => {
      assert.equal(error.name, "SyntaxError");
      assert.match(
        error.message,
        /line 2 of the script does not parse: the double quote at column 6 is not closed/,
      );
      return true;
    },
  );
  assert.equal(await pathExists(`${dir.path}/first`), false);
  await assert.rejects(
    run_shell_script({ script: "pwd", directory: "missing" }, context),
    {
      message:
        `Cannot run run_shell_script: directory "missing" (resolved to "${dir.path}/missing") does not exist; create it or fix the "directory" input`,
    },
  );
  await assert.rejects(
    run_shell_script({ script: "no-such-command-xyz --flag" }, context),
    /command "no-such-command-xyz" was not found on the PATH/,
  );
});
