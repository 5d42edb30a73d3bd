import assert from "node:assert/strict";
import { pull_from_remote_storage } from "../../src/steps/pull_from_remote_storage.ts";
import { createContext, PATH, tempDir } from "./_helpers.ts";
import {
  gzip,
  listTree,
  serve,
  tar,
  type TestEntry,
  zip,
} from "./_archives.ts";

async function sh(cwd: string, command: string): Promise<void> {
  const output = await new Deno.Command("sh", {
    args: ["-c", command],
    cwd,
    clearEnv: true,
    env: { PATH },
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
}

/** A project tree with a nested file, an executable and an inner symlink, in `<root>/src`. */
async function makeProject(root: string): Promise<string> {
  const src = `${root}/src`;
  await Deno.mkdir(`${src}/lib`, { recursive: true });
  await Deno.writeTextFile(`${src}/flow.ts`, "export const flow = 1;\n");
  await Deno.writeTextFile(`${src}/lib/util.ts`, "export {};\n");
  await Deno.writeTextFile(`${src}/run.sh`, "#!/bin/sh\necho hi\n", {
    mode: 0o755,
  });
  await Deno.chmod(`${src}/run.sh`, 0o755);
  await Deno.symlink("lib/util.ts", `${src}/util-link.ts`);
  return src;
}

const PROJECT_TREE = [
  "flow.ts",
  "lib/",
  "lib/util.ts",
  "run.sh",
  "util-link.ts -> lib/util.ts",
];

Deno.test("pull_from_remote_storage() unpacks a tar.gz served over http into <host>/<path>", async () => {
  await using dir = await tempDir();
  const src = await makeProject(dir.path);
  await sh(src, `tar czf ${dir.path}/app.tar.gz .`);
  await using server = serve({
    "/code/app.tar.gz": await Deno.readFile(`${dir.path}/app.tar.gz`),
  });
  await Deno.mkdir(`${dir.path}/run`);
  const context = createContext(`${dir.path}/run`);
  const result = await pull_from_remote_storage({
    url: `${server.origin}/code/app.tar.gz`,
  }, context);
  assert.deepEqual(result, { directory: `${server.host}/code/app` });
  const target = `${dir.path}/run/${result.directory}`;
  assert.deepEqual(await listTree(target), PROJECT_TREE);
  assert.equal(
    await Deno.readTextFile(`${target}/util-link.ts`),
    "export {};\n",
  );
  assert.equal((await Deno.stat(`${target}/run.sh`)).mode! & 0o111, 0o111);
});

Deno.test("pull_from_remote_storage() unpacks a deflated zip served over http", async () => {
  await using dir = await tempDir();
  const src = await makeProject(dir.path);
  await Deno.writeTextFile(`${src}/big.txt`, "repeat ".repeat(5000));
  await sh(src, `zip -qry ${dir.path}/app.zip .`);
  await using server = serve({
    "/app.zip": await Deno.readFile(`${dir.path}/app.zip`),
  });
  await Deno.mkdir(`${dir.path}/run`);
  const result = await pull_from_remote_storage(
    { url: `${server.origin}/app.zip`, directory: "code" },
    createContext(`${dir.path}/run`),
  );
  assert.deepEqual(result, { directory: "code" });
  assert.deepEqual(
    await listTree(`${dir.path}/run/code`),
    ["big.txt", ...PROJECT_TREE].sort(),
  );
  assert.equal(
    await Deno.readTextFile(`${dir.path}/run/code/big.txt`),
    "repeat ".repeat(5000),
  );
});

Deno.test("pull_from_remote_storage() copies a directory and unpacks an archive from file URLs and paths", async () => {
  await using dir = await tempDir();
  await makeProject(dir.path);
  await Deno.mkdir(`${dir.path}/run`);
  const context = createContext(`${dir.path}/run`);
  const copied = await pull_from_remote_storage({
    url: `file://${dir.path}/src`,
  }, context);
  assert.equal(copied.directory, `${dir.path.slice(1)}/src`);
  assert.deepEqual(
    await listTree(`${dir.path}/run/${copied.directory}`),
    PROJECT_TREE,
  );
  await Deno.writeFile(
    `${dir.path}/run/bundle.tar`,
    tar([{ type: "file", path: "a/b.txt", content: "b" }]),
  );
  const local = await pull_from_remote_storage({ url: "bundle.tar" }, context);
  assert.deepEqual(local, { directory: "bundle" });
  assert.equal(await Deno.readTextFile(`${dir.path}/run/bundle/a/b.txt`), "b");
});

Deno.test("pull_from_remote_storage() replaces an earlier pull of the same location", async () => {
  await using dir = await tempDir();
  await using server = serve({
    "/v1.tar.gz": await gzip(
      tar([{ type: "file", path: "old.txt", content: "old" }]),
    ),
    "/v2.tar.gz": await gzip(
      tar([{ type: "file", path: "new.txt", content: "new" }]),
    ),
  });
  const context = createContext(dir.path);
  await pull_from_remote_storage({
    url: `${server.origin}/v1.tar.gz`,
    directory: "code",
  }, context);
  await pull_from_remote_storage({
    url: `${server.origin}/v2.tar.gz`,
    directory: "code",
  }, context);
  assert.deepEqual(await listTree(dir.path), ["code/", "code/new.txt"]);
});

Deno.test("pull_from_remote_storage() sends headers and URL credentials, and never shows the credentials", async () => {
  await using dir = await tempDir();
  await using server = serve({
    "/a.tar.gz": await gzip(tar([{ type: "file", path: "x", content: "x" }])),
  });
  const context = createContext(dir.path);
  await pull_from_remote_storage({
    url: `${server.origin}/a.tar.gz`,
    headers: { "x-api-key": "k1" },
    directory: "a",
  }, context);
  assert.equal(server.requests.at(-1)?.headers.get("x-api-key"), "k1");
  const withUser =
    `http://alice:pw-SECRET@${server.host}/missing.tar.gz?token=SECRET2`;
  await assert.rejects(
    pull_from_remote_storage({ url: withUser }, context),
    (error: Error) => {
      assert.equal(
        error.message,
        `Cannot run pull_from_remote_storage: cannot download "http://${server.host}/missing.tar.gz": the server answered 404 Not Found; check the URL and its access settings`,
      );
      return true;
    },
  );
  assert.equal(
    server.requests.at(-1)?.headers.get("authorization"),
    `Basic ${btoa("alice:pw-SECRET")}`,
  );
  assert.deepEqual(await listTree(dir.path), ["a/", "a/x"]);
});

const UNSAFE: Record<string, TestEntry[]> = {
  "a ../ path (zip-slip)": [
    { type: "file", path: "ok.txt", content: "ok" },
    { type: "file", path: "../evil.txt", content: "evil" },
  ],
  "a nested ../ path": [{
    type: "file",
    path: "a/../../evil.txt",
    content: "evil",
  }],
  "an absolute path": [{
    type: "file",
    path: "/tmp/stepbox-evil-absolute.txt",
    content: "evil",
  }],
  "a symlink to an absolute path": [{
    type: "symlink",
    path: "etc",
    target: "/etc",
  }],
  "a symlink climbing out": [{
    type: "symlink",
    path: "sub/up",
    target: "../../outside",
  }],
  "a file written through a symlink": [
    { type: "symlink", path: "link", target: "." },
    { type: "file", path: "link/x.txt", content: "x" },
  ],
  "a symlink through another symlink": [
    { type: "symlink", path: "here", target: "." },
    { type: "symlink", path: "escape", target: "here/.." },
  ],
  "a hard link to a file outside": [{
    type: "hardlink",
    path: "passwd",
    target: "../../etc/passwd",
  }],
};

for (const [what, entries] of Object.entries(UNSAFE)) {
  for (const format of ["tar.gz", "zip"] as const) {
    if (format === "zip" && entries.some((e) => e.type === "hardlink")) {
      continue;
    }
    Deno.test(`pull_from_remote_storage() refuses a ${format} archive with ${what} and writes nothing`, async () => {
      await using dir = await tempDir();
      await Deno.mkdir(`${dir.path}/run`);
      const archive = format === "zip"
        ? zip(entries)
        : await gzip(tar(entries));
      await using server = serve({ [`/bad.${format}`]: archive });
      await assert.rejects(
        pull_from_remote_storage(
          { url: `${server.origin}/bad.${format}` },
          createContext(`${dir.path}/run`),
        ),
        (error: Error) => {
          assert.match(
            error.message,
            new RegExp(
              `^Cannot run pull_from_remote_storage: cannot unpack "http://${server.host}/bad\\.${
                format.replace(".", "\\.")
              }": .*; nothing was written$`,
            ),
          );
          return true;
        },
      );
      assert.deepEqual(await listTree(dir.path), ["run/"]);
      await assert.rejects(
        Deno.lstat("/tmp/stepbox-evil-absolute.txt"),
        Deno.errors.NotFound,
      );
    });
  }
}

Deno.test("pull_from_remote_storage() accepts symlinks that stay inside the target", async () => {
  await using dir = await tempDir();
  const entries: TestEntry[] = [
    { type: "file", path: "lib/util.ts", content: "u" },
    { type: "symlink", path: "bin/util", target: "../lib/util.ts" },
    { type: "symlink", path: "self", target: "." },
    { type: "hardlink", path: "copy.ts", target: "lib/util.ts" },
  ];
  await using server = serve({ "/ok.tar.gz": await gzip(tar(entries)) });
  const result = await pull_from_remote_storage(
    { url: `${server.origin}/ok.tar.gz`, directory: "ok" },
    createContext(dir.path),
  );
  assert.deepEqual(await listTree(`${dir.path}/${result.directory}`), [
    "bin/",
    "bin/util -> ../lib/util.ts",
    "copy.ts",
    "lib/",
    "lib/util.ts",
    "self -> .",
  ]);
  assert.equal(await Deno.readTextFile(`${dir.path}/ok/bin/util`), "u");
});

Deno.test("pull_from_remote_storage() reports missing, broken and unsupported sources clearly", async () => {
  await using dir = await tempDir();
  await using server = serve({
    "/page.html": new TextEncoder().encode("<html></html>"),
  });
  const context = createContext(dir.path);
  await assert.rejects(
    pull_from_remote_storage({ url: `${server.origin}/page.html` }, context),
    {
      message:
        `Cannot run pull_from_remote_storage: "http://${server.host}/page.html" is not a tar.gz, tar or zip archive; point it at an archive or a directory`,
    },
  );
  await assert.rejects(
    pull_from_remote_storage(
      { url: `file://${dir.path}/nothing-here` },
      context,
    ),
    /"file:\/\/.*nothing-here" does not exist; check the URL or path/,
  );
  await assert.rejects(
    pull_from_remote_storage({ url: "s3://bucket/folder" }, context),
    /URL scheme "s3:" of "s3:\/\/bucket\/folder" is not supported/,
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    pull_from_remote_storage({
      url: `http://127.0.0.1:${port}/x.zip?sig=SECRET`,
    }, context),
    (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`cannot download "http://127\\.0\\.0\\.1:${port}/x\\.zip"`),
      );
      assert.doesNotMatch(error.message, /SECRET/);
      return true;
    },
  );
  const corrupt = await gzip(tar([{ type: "file", path: "a", content: "a" }]));
  await using broken = serve({
    "/cut.tar.gz": corrupt.subarray(0, corrupt.length - 8),
  });
  await assert.rejects(
    pull_from_remote_storage({ url: `${broken.origin}/cut.tar.gz` }, context),
    /cannot unpack .*gzip data is corrupt|cannot unpack .*truncated/,
  );
  assert.deepEqual(await listTree(dir.path), []);
});

Deno.test("pull_from_remote_storage() refuses a download said to be over 1 GiB without reading it", async () => {
  await using dir = await tempDir();
  // A raw HTTP server: it announces 2 GiB, sends a few bytes, and waits for the client to go.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(4096));
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\nPK\x03\x04",
      ),
    );
    await conn.read(new Uint8Array(4096)).catch(() => null);
    conn.close();
  })();
  const { port } = listener.addr as Deno.NetAddr;
  await assert.rejects(
    pull_from_remote_storage(
      { url: `http://127.0.0.1:${port}/huge.zip`, directory: "code" },
      createContext(dir.path),
    ),
    {
      message:
        `Cannot run pull_from_remote_storage: cannot unpack "http://127.0.0.1:${port}/huge.zip": it is larger than 1 GiB, the most stepbox unpacks; nothing was written`,
    },
  );
  await served;
  listener.close();
  assert.deepEqual(await listTree(dir.path), []);
});

Deno.test("pull_from_remote_storage() validates its inputs and target", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  await assert.rejects(pull_from_remote_storage({} as never, context), {
    name: "TypeError",
    message:
      'Cannot run pull_from_remote_storage: input "url" is required, found nothing; add "url: <value>" to the step',
  });
  await assert.rejects(
    pull_from_remote_storage({ url: "x.zip", key: "AKIA" } as never, context),
    /unknown input "key" \(accepted: "url", "headers", "directory"\)/,
  );
  await assert.rejects(
    pull_from_remote_storage({ url: "x.zip", headers: "a" } as never, context),
    /input "headers" must be a mapping of names to strings, found a string/,
  );
  await Deno.writeFile(
    `${dir.path}/a.tar`,
    tar([{ type: "file", path: "f", content: "f" }]),
  );
  for (const directory of ["..", ".", "../elsewhere", "/tmp/elsewhere"]) {
    await assert.rejects(
      pull_from_remote_storage({ url: "a.tar", directory }, context),
      /is not inside the run's working directory/,
    );
  }
  assert.deepEqual(await listTree(dir.path), ["a.tar"]);
});
