import assert from "node:assert/strict";
import { pathExists } from "../../src/steps/_fs.ts";
import { git_clone } from "../../src/steps/git_clone.ts";
import {
  createContext,
  createRepository,
  git,
  PATH,
  tempDir,
} from "./_helpers.ts";

Deno.test("git_clone() clones a branch into <name>-<branch> and returns it", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const context = createContext(`${dir.path}`);
  const result = await git_clone(
    { repository: repo.url, branch: "release" },
    context,
  );
  assert.deepEqual(result, { directory: "project-release" });
  const clone = `${dir.path}/project-release`;
  assert.equal(
    await git(clone, "rev-parse", "--abbrev-ref", "HEAD"),
    "release",
  );
  assert.equal(await git(clone, "rev-parse", "HEAD"), repo.release);
  assert.equal(await Deno.readTextFile(`${clone}/release.txt`), "release\n");
});

Deno.test("git_clone() names the directory after the repository without a branch", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const result = await git_clone(
    { repository: repo.url },
    createContext(dir.path),
  );
  assert.deepEqual(result, { directory: "project" });
  assert.equal(
    await git(`${dir.path}/project`, "rev-parse", "HEAD"),
    repo.main,
  );
});

Deno.test("git_clone() checks out commit_sha", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const result = await git_clone(
    { repository: repo.url, commit_sha: repo.first },
    createContext(dir.path),
  );
  const clone = `${dir.path}/${result.directory}`;
  assert.equal(await git(clone, "rev-parse", "HEAD"), repo.first);
  assert.equal(await Deno.readTextFile(`${clone}/README.md`), "first\n");
});

Deno.test("git_clone() checks out only the given directories", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const result = await git_clone(
    { repository: repo.url, directories: ["app"] },
    createContext(dir.path),
  );
  const clone = `${dir.path}/${result.directory}`;
  assert.equal(await pathExists(`${clone}/app/main.txt`), true);
  assert.equal(await pathExists(`${clone}/docs`), false);
});

Deno.test("git_clone() updates an existing clone of the same repository", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const context = createContext(dir.path);
  await git_clone({ repository: repo.url, branch: "main" }, context);
  const again = await git_clone(
    { repository: repo.url, branch: "main" },
    context,
  );
  assert.deepEqual(again, { directory: "project-main" });
  assert.equal(
    await git(`${dir.path}/project-main`, "rev-parse", "HEAD"),
    repo.main,
  );
});

Deno.test("git_clone() refuses an option-like branch and creates nothing", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  const marker = `${dir.path}/pwned`;
  await assert.rejects(
    git_clone(
      { repository: repo.url, branch: `--upload-pack=touch ${marker}` },
      createContext(dir.path),
    ),
    (error: Error) => {
      assert.equal(error.name, "TypeError");
      assert.match(error.message, /input "branch" .* starts with "-"/);
      return true;
    },
  );
  assert.equal(await pathExists(marker), false);
  assert.deepEqual(
    [...Deno.readDirSync(dir.path)].map((e) => e.name).sort(),
    ["repos"],
  );
});

Deno.test("git_clone() refuses option-like repositories, commits and ext:: transports", async () => {
  await using dir = await tempDir();
  const context = createContext(dir.path);
  await assert.rejects(
    git_clone({ repository: "--upload-pack=touch x" }, context),
    /input "repository" starts with "-"/,
  );
  await assert.rejects(
    git_clone({ repository: "file:///r.git", commit_sha: "--help" }, context),
    /input "commit_sha"/,
  );
  await assert.rejects(
    git_clone({ repository: "ext::sh -c touch% /tmp/x" }, context),
    /remote-helper transport/,
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("git_clone() validates inputs with clear TypeErrors", async () => {
  const context = createContext("/");
  await assert.rejects(git_clone({} as never, context), {
    name: "TypeError",
    message:
      'Cannot run git_clone: input "repository" is required, found nothing; add "repository: <value>" to the step',
  });
  await assert.rejects(
    git_clone(
      { repository: "file:///r.git", include_submodules: "yes" } as never,
      context,
    ),
    /input "include_submodules" must be a boolean, found a string/,
  );
  await assert.rejects(
    git_clone({ repository: "file:///r.git", branch: 3 } as never, context),
    /input "branch" must be a string, found a number; quote the value/,
  );
  await assert.rejects(
    git_clone({ repository: "file:///r.git", brnch: "x" } as never, context),
    /unknown input "brnch"/,
  );
  await assert.rejects(
    git_clone({
      repository: "https://example.com/r.git",
      access_token: "t",
      credentials: { token: "u" },
    }, context),
    {
      message:
        "Please provide either an access token or credentials but not both.",
    },
  );
  await assert.rejects(
    git_clone({
      repository: "https://example.com/r.git",
      credentials: { username: "u" },
    }, context),
    /Please provide a `token` or `password`/,
  );
});

Deno.test("git_clone() never shows credentials in its errors, after three attempts", async () => {
  await using dir = await tempDir();
  // A port with nothing listening: every attempt fails fast.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const context = createContext(dir.path);
  const cases = [
    {
      repository: `https://127.0.0.1:${port}/org/repo.git`,
      access_token: "tok-SECRET-1",
    },
    {
      repository: `https://127.0.0.1:${port}/org/repo.git`,
      credentials: { username: "alice", password: "pw-SECRET-2" },
    },
    { repository: `https://bob:pw-SECRET-3@127.0.0.1:${port}/org/repo.git` },
  ];
  for (const inputs of cases) {
    const started = Date.now();
    const error = await git_clone(inputs, context).then(
      () => assert.fail("the clone should fail"),
      (e: Error & { stderr: string; exitCode: number }) => e,
    );
    const text = `${error.message}\n${error.stderr}\n${error.stack}`;
    assert.doesNotMatch(text, /SECRET/);
    assert.match(error.message, /after 3 attempts/);
    assert.match(
      error.message,
      new RegExp(`127\\.0\\.0\\.1:${port}/org/repo\\.git`),
    );
    assert.notEqual(error.exitCode, 0);
    assert.ok(
      Date.now() - started >= 1400,
      "two backoff delays between three attempts",
    );
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("git_clone() leaves non-https URLs without credentials, as Prefect does", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  // Credentials go into https URLs only; a file URL is cloned as is and stays clean.
  const result = await git_clone(
    { repository: repo.url, access_token: "tok-SECRET" },
    createContext(dir.path),
  );
  const config = await Deno.readTextFile(
    `${dir.path}/${result.directory}/.git/config`,
  );
  assert.doesNotMatch(config, /SECRET/);
  assert.match(config, /project\.git/);
});

const opensslAvailable = await new Deno.Command("openssl", {
  args: ["version"],
  stdout: "null",
  stderr: "null",
}).output().then((output) => output.success, () => false);

/** Answers git's smart HTTP protocol through `git http-backend` (CGI) for repositories under `root`. */
async function gitHttpBackend(
  root: string,
  request: Request,
): Promise<Response> {
  const url = new URL(request.url);
  const child = new Deno.Command("git", {
    args: ["http-backend"],
    clearEnv: true,
    env: {
      PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      REQUEST_METHOD: request.method,
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: request.headers.get("content-type") ?? "",
      HTTP_CONTENT_ENCODING: request.headers.get("content-encoding") ?? "",
      GIT_PROTOCOL: request.headers.get("git-protocol") ?? "",
      REMOTE_USER: "user",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const body = new Uint8Array(await request.arrayBuffer());
  const writer = child.stdin.getWriter();
  await writer.write(body);
  await writer.close();
  const output = await child.output();
  const bytes = output.stdout;
  let split = 0;
  while (
    split + 3 < bytes.length &&
    !(bytes[split] === 13 && bytes[split + 1] === 10 &&
      bytes[split + 2] === 13 && bytes[split + 3] === 10)
  ) split++;
  const headers = new Headers();
  let status = 200;
  for (
    const line of new TextDecoder().decode(bytes.subarray(0, split)).split(
      "\r\n",
    )
  ) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = parseInt(value, 10);
    else headers.append(name, value);
  }
  return new Response(bytes.slice(split + 4), { status, headers });
}

Deno.test({
  name:
    "git_clone() sends access_token and credentials over https as basic authentication",
  // A local https server needs a certificate, made here with openssl.
  ignore: !opensslAvailable,
  async fn() {
    await using dir = await tempDir();
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        `${dir.path}/key.pem`,
        "-out",
        `${dir.path}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.ok(made.success);
    const seen: (string | null)[] = [];
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir.path}/cert.pem`),
      key: await Deno.readTextFile(`${dir.path}/key.pem`),
      onListen() {},
    }, (request) => {
      const authorization = request.headers.get("authorization");
      seen.push(authorization);
      if (authorization === null) {
        return new Response("", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="git"' },
        });
      }
      return new URL(request.url).pathname.startsWith("/repos/")
        ? gitHttpBackend(dir.path, request)
        : new Response("no such repository", { status: 404 });
    });
    try {
      await Deno.mkdir(`${dir.path}/run`);
      const context = createContext(`${dir.path}/run`, {
        GIT_SSL_NO_VERIFY: "1",
      });
      const repository = `https://127.0.0.1:${server.addr.port}/org/repo.git`;
      const cases = [
        {
          inputs: { repository, access_token: "tok-SECRET" },
          basic: "tok-SECRET:",
        },
        {
          inputs: {
            repository,
            credentials: { username: "user", password: "p@ss/SECRET" },
          },
          basic: "user:p@ss/SECRET",
        },
      ];
      for (const { inputs, basic } of cases) {
        seen.length = 0;
        await assert.rejects(
          git_clone(inputs, context),
          (error: Error & { stderr: string }) => {
            assert.match(error.message, /not found/);
            assert.doesNotMatch(`${error.message} ${error.stderr}`, /SECRET/);
            return true;
          },
        );
        assert.ok(
          seen.includes(`Basic ${btoa(basic)}`),
          `expected basic authentication in ${seen}`,
        );
      }
      assert.deepEqual([...Deno.readDirSync(`${dir.path}/run`)], []);

      // A real clone over https: the token authenticates it and is not left on disk.
      await createRepository(dir.path);
      seen.length = 0;
      const url = `https://127.0.0.1:${server.addr.port}/repos/project.git`;
      const result = await git_clone({
        repository: url,
        branch: "release",
        access_token: "tok-SECRET",
      }, context);
      assert.deepEqual(result, { directory: "project-release" });
      const clone = `${dir.path}/run/project-release`;
      assert.equal(
        await git(clone, "rev-parse", "--abbrev-ref", "HEAD"),
        "release",
      );
      assert.ok(seen.includes(`Basic ${btoa("tok-SECRET:")}`));
      assert.doesNotMatch(
        await Deno.readTextFile(`${clone}/.git/config`),
        /SECRET/,
      );
      assert.equal(
        await git(clone, "config", "--get", "remote.origin.url"),
        url,
      );
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("git_clone() clones submodules with include_submodules", async () => {
  await using dir = await tempDir();
  const repo = await createRepository(dir.path);
  // Git refuses file:// submodules unless allowed; the run's environment is what git sees.
  const allowFile = {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "protocol.file.allow",
    GIT_CONFIG_VALUE_0: "always",
  };
  const work = `${dir.path}/with-sub`;
  await Deno.mkdir(work);
  await git(work, "init", "--initial-branch=main");
  await git(
    work,
    "-c",
    "protocol.file.allow=always",
    "submodule",
    "add",
    repo.url,
    "vendor/project",
  );
  await git(work, "commit", "-m", "add submodule");
  const bare = `${dir.path}/repos/with-sub.git`;
  await Deno.mkdir(bare);
  await git(bare, "init", "--bare", "--initial-branch=main");
  await git(work, "push", bare, "main");
  await Deno.mkdir(`${dir.path}/run`);
  const context = createContext(`${dir.path}/run`, allowFile);
  const withSub = await git_clone(
    { repository: `file://${bare}`, include_submodules: true },
    context,
  );
  assert.equal(
    await Deno.readTextFile(
      `${dir.path}/run/${withSub.directory}/vendor/project/README.md`,
    ),
    "second\n",
  );
  await Deno.remove(`${dir.path}/run/${withSub.directory}`, {
    recursive: true,
  });
  const without = await git_clone({ repository: `file://${bare}` }, context);
  assert.deepEqual(
    [...Deno.readDirSync(
      `${dir.path}/run/${without.directory}/vendor/project`,
    )],
    [],
  );
});
