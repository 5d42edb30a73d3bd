import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli/args.ts";

function usage(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    return error;
  }
  assert.fail(`parseArgs(${JSON.stringify(argv)}) did not throw`);
}

Deno.test("parseArgs() reads every run flag", () => {
  assert.deepEqual(
    parseArgs([
      "run",
      "prefect.yaml",
      "--section",
      "pull",
      "--set",
      "repository=https://github.com/org/repo",
      "--set=branch=main",
      "--set",
      "empty=",
      "--vars-file",
      "vars.yaml",
      "--import-map=map.json",
      "--isolation",
      "pool",
      "--allow-read",
      "--allow-net=api.example.com,cdn.example.com",
      "--allow-net=other.example.com",
      "--allow-env=HOME",
      "--timeout",
      "2.5",
      "--events",
      "events.jsonl",
      "--dry-run",
    ]),
    {
      command: "run",
      file: "prefect.yaml",
      section: "pull",
      set: {
        repository: "https://github.com/org/repo",
        branch: "main",
        empty: "",
      },
      varsFile: "vars.yaml",
      importMap: "map.json",
      isolation: "pool",
      allow: {
        read: true,
        net: ["api.example.com", "cdn.example.com", "other.example.com"],
        env: ["HOME"],
      },
      timeout: 2.5,
      events: "events.jsonl",
      dryRun: true,
    },
  );
});

Deno.test("parseArgs() leaves the ceiling undefined without --allow flags", () => {
  const options = parseArgs(["run"]);
  assert.deepEqual(options, { command: "run", set: {}, dryRun: false });
});

Deno.test("parseArgs() reads --allow-all and every permission flag", () => {
  const all = parseArgs(["run", "-A"]);
  assert.equal(all.command, "run");
  assert.deepEqual(Object.keys((all as { allow: object }).allow).sort(), [
    "env",
    "ffi",
    "import",
    "net",
    "read",
    "run",
    "sys",
    "write",
  ]);
  const each = parseArgs([
    "run",
    "--allow-write=/tmp",
    "--allow-run=git",
    "--allow-sys",
    "--allow-ffi",
    "--allow-import=esm.sh",
  ]);
  assert.deepEqual((each as { allow: object }).allow, {
    write: ["/tmp"],
    run: ["git"],
    sys: true,
    ffi: true,
    import: ["esm.sh"],
  });
});

Deno.test("parseArgs() rejects --set without =", () => {
  const error = usage(["run", "--set", "novalue"]);
  assert.equal(
    error.message,
    'Flag "--set" needs key=value, found "novalue"; write it as "--set novalue=value"',
  );
  assert.equal(error.topic, "run");
  usage(["run", "--set", "=x"]);
  usage(["run", "--set"]);
});

Deno.test("parseArgs() rejects unknown flags and bad values", () => {
  assert.equal(
    usage(["run", "--bogus"]).message,
    'Unknown flag "--bogus" for "stepbox run"',
  );
  assert.match(
    usage(["run", "--section", "deploy"]).message,
    /must be build, push or pull, found "deploy"/,
  );
  assert.match(
    usage(["run", "--isolation", "none"]).message,
    /must be step, pool or inline/,
  );
  assert.match(
    usage(["run", "--timeout", "0"]).message,
    /positive number of seconds/,
  );
  assert.match(
    usage(["run", "--timeout", "soon"]).message,
    /positive number of seconds/,
  );
  assert.match(
    usage(["run", "a.yaml", "b.yaml"]).message,
    /takes one step file/,
  );
  assert.match(
    usage(["run", "--events", "--dry-run"]).message,
    /needs a value/,
  );
  assert.match(usage(["--bogus"]).message, /a command comes first/);
  assert.match(usage(["deploy"]).message, /Unknown command "deploy"/);
  assert.match(
    usage(["validate", "--strict"]).message,
    /Unknown flag "--strict"/,
  );
  assert.match(usage(["run", "--dry-run=yes"]).message, /Unknown flag/);
});

Deno.test("parseArgs() gives help on every command", () => {
  assert.deepEqual(parseArgs([]), { command: "help", topic: "stepbox" });
  assert.deepEqual(parseArgs(["--help"]), {
    command: "help",
    topic: "stepbox",
  });
  assert.deepEqual(parseArgs(["help", "block"]), {
    command: "help",
    topic: "block",
  });
  for (const topic of ["run", "validate", "variable", "block"] as const) {
    assert.deepEqual(parseArgs([topic, "--help"]), { command: "help", topic });
    assert.deepEqual(parseArgs([topic, "-h"]), { command: "help", topic });
  }
  assert.deepEqual(parseArgs(["variable", "set", "--help"]), {
    command: "help",
    topic: "variable",
  });
});

Deno.test("parseArgs() reads validate", () => {
  assert.deepEqual(parseArgs(["validate", "a.yaml"]), {
    command: "validate",
    file: "a.yaml",
  });
  assert.deepEqual(parseArgs(["validate"]), { command: "validate" });
});

Deno.test("parseArgs() reads variable commands", () => {
  assert.deepEqual(parseArgs(["variable", "set", "region", "eu-west-3"]), {
    command: "variable",
    action: "set",
    name: "region",
    value: "eu-west-3",
    json: false,
  });
  assert.deepEqual(parseArgs(["variable", "set", "n", "3", "--json"]), {
    command: "variable",
    action: "set",
    name: "n",
    value: "3",
    json: true,
  });
  assert.deepEqual(parseArgs(["variable", "ls"]), {
    command: "variable",
    action: "ls",
    json: false,
  });
  assert.deepEqual(parseArgs(["variable", "rm", "region"]), {
    command: "variable",
    action: "rm",
    name: "region",
    json: false,
  });
  assert.match(
    usage(["variable", "set", "region"]).message,
    /needs a name and a value/,
  );
  assert.match(usage(["variable"]).message, /needs an action/);
  assert.match(usage(["variable", "put", "x"]).message, /Unknown action "put"/);
});

Deno.test("parseArgs() reads block commands", () => {
  assert.deepEqual(
    parseArgs(["block", "set", "secret/api-token", "--value", "s3cr3t"]),
    {
      command: "block",
      action: "set",
      slug: "secret",
      name: "api-token",
      value: "s3cr3t",
      reveal: false,
    },
  );
  assert.deepEqual(
    parseArgs(["block", "set", "aws/prod", "--json", '{"a":1}']),
    {
      command: "block",
      action: "set",
      slug: "aws",
      name: "prod",
      json: '{"a":1}',
      reveal: false,
    },
  );
  assert.deepEqual(parseArgs(["block", "get", "secret/x", "--reveal"]), {
    command: "block",
    action: "get",
    slug: "secret",
    name: "x",
    reveal: true,
  });
  assert.match(
    usage(["block", "set", "secret/x"]).message,
    /exactly one of --value TEXT and --json/,
  );
  assert.match(
    usage(["block", "set", "secret/x", "--value", "a", "--json", "{}"]).message,
    /exactly one of/,
  );
  assert.match(
    usage(["block", "get", "secret"]).message,
    /must be written <type-slug>\/<name>/,
  );
  assert.match(usage(["block", "ls", "extra"]).message, /takes no arguments/);
  assert.match(
    usage(["block", "get", "a/b", "--value", "x"]).message,
    /Unknown flag "--value"/,
  );
});

Deno.test("parseArgs() keeps --set __proto__ an own key", () => {
  const options = parseArgs([
    "run",
    "--set",
    "__proto__=x",
    "--set",
    "constructor=y",
  ]);
  assert.equal(options.command, "run");
  const set = (options as { set: Record<string, string> }).set;
  assert.ok(Object.hasOwn(set, "__proto__"));
  assert.equal(Object.getPrototypeOf(set), Object.prototype);
  assert.equal(set.constructor, "y");
  assert.equal(({} as { x?: unknown }).x, undefined);
});

Deno.test("parseArgs() reads --allow-unenforced", () => {
  const options = parseArgs(["run", "f.yaml", "--allow-unenforced"]);
  assert.equal(options.command, "run");
  assert.equal(
    options.command === "run" ? options.allowUnenforced : undefined,
    true,
  );
  assert.throws(() => parseArgs(["run", "--allow-unenforced=yes"]));
});
