/**
 * The `git_clone` built-in step, compatible with Prefect's `prefect.deployments.steps.git_clone`.
 *
 * @module
 */

import { join } from "node:path";
import type { StepContext } from "../types.ts";
import { CommandFailedError, runCommand } from "./_command.ts";
import { stepContext } from "./_context.ts";
import { pathExists } from "./_fs.ts";
import { checkInputs, describeType } from "./_inputs.ts";

const STEP = "git_clone";
const ATTEMPTS = 3;
const BASE_DELAY_MS = 500;
const URL_WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const MASK = "***";

/** The inputs of {@linkcode git_clone}, with Prefect's names. */
export interface GitCloneInputs {
  /** The repository URL: `https://`, `ssh://`, `git://`, `file://`, `user@host:path` or a local path. */
  repository: string;
  /** The branch (or tag) to clone. @default the repository's default branch */
  branch?: string;
  /** The commit to check out (hexadecimal). @default the branch's latest commit */
  "commit_sha"?: string;
  /** Clone submodules too. @default false */
  "include_submodules"?: boolean;
  /** A token put into an `https` URL; not together with `credentials`. */
  "access_token"?: string;
  /** A credentials block's data: `token` (or `access_token`), or `username` and `password`. */
  credentials?: Record<string, unknown>;
  /** Check out only these directories (sparse checkout). @default all */
  directories?: string | string[];
}

/**
 * Prefect's `_format_token_from_credentials`: the user info to put into the URL for `host`.
 */
function formatCredentials(
  host: string,
  credentials: Record<string, unknown>,
): { username: string; password?: string } {
  const text = (key: string): string | undefined => {
    const value = credentials[key];
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot run ${STEP}: "credentials.${key}" must be a string, found ${
          describeType(value)
        }; fix the credentials block`,
      );
    }
    return value;
  };
  const username = text("username");
  const token = text("access_token") ?? text("token") ?? text("password");
  if (token === undefined) {
    throw new TypeError(
      "Please provide a `token` or `password` in your Credentials block to clone a repo.",
    );
  }
  if (username !== undefined) return { username, password: token };
  if (host.includes("bitbucket")) {
    if (token.startsWith("x-token-auth:") || token.includes(":")) {
      const colon = token.indexOf(":");
      return {
        username: token.slice(0, colon),
        password: token.slice(colon + 1),
      };
    }
    return { username: "x-token-auth", password: token };
  }
  if (host.includes("gitlab")) {
    return {
      username: "oauth2",
      password: token.startsWith("oauth2:") ? token.slice(7) : token,
    };
  }
  return { username: token };
}

/** Replaces every secret (and its URL-encoded form) and any URL user info in `text`. */
function createMask(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    try {
      forms.add(decodeURIComponent(secret));
    } catch {
      // Not percent-encoded text: the raw form is enough.
    }
  }
  const ordered = [...forms].filter((f) => f !== "").sort((a, b) =>
    b.length - a.length
  );
  return (text) => {
    let masked = text.replace(
      /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]*@/g,
      `$1${MASK}@`,
    );
    for (const form of ordered) masked = masked.replaceAll(form, MASK);
    return masked;
  };
}

/** The repository URL without user info, for messages and the stored remote. */
function withoutUserInfo(repository: string): string {
  if (!URL_WITH_SCHEME.test(repository)) return repository;
  try {
    const url = new URL(repository);
    if (url.username === "" && url.password === "") return repository;
    url.username = "";
    url.password = "";
    return url.href;
  } catch {
    return repository.replace(/^([^:]+:\/\/)[^/@]*@/, "$1");
  }
}

/** Prefect's directory name: the repository's last path segment without `.git`, plus `-<branch>`. */
function directoryName(repository: string, branch: string | undefined): string {
  let path = repository;
  if (URL_WITH_SCHEME.test(repository)) {
    try {
      path = new URL(repository).pathname;
    } catch {
      path = repository.replace(URL_WITH_SCHEME, "");
    }
  }
  const segments = path.split(/[/\\:]/).filter((s) => s !== "");
  let name = segments.at(-1) ?? "";
  try {
    name = decodeURIComponent(name);
  } catch {
    // Keep the segment as written.
  }
  name = name.replace(/\.git$/, "");
  if (name === "" || name === "." || name === ".." || /[/\\]/.test(name)) {
    throw new TypeError(
      `Cannot run ${STEP}: cannot name the clone's directory after the repository "${
        withoutUserInfo(repository)
      }"; give a repository URL that ends with the repository's name`,
    );
  }
  return branch === undefined ? name : `${name}-${branch.replaceAll("/", "-")}`;
}

function refuseOptionLike(name: string, value: string, show: boolean): void {
  if (value.startsWith("-")) {
    throw new TypeError(
      `Cannot run ${STEP}: input "${name}" ${
        show ? `("${value}") ` : ""
      }starts with "-", so git would read it as an option; give a ${
        name === "repository" ? "repository URL" : name.replace("_", " ")
      }, not an option`,
    );
  }
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new TypeError(
      `Cannot run ${STEP}: input "${name}" contains a control character or a line break; remove it`,
    );
  }
}

/** The repository as a URL, or `undefined` for scp-like addresses, paths and unparsable text (git judges those). */
function parseUrl(repository: string): URL | undefined {
  if (!URL_WITH_SCHEME.test(repository)) return undefined;
  try {
    return new URL(repository);
  } catch {
    return undefined;
  }
}

/** git's error output on one line, without its progress lines. */
function summarize(stderr: string): string {
  return stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("Cloning into")
  ).join(" ");
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Clones a git repository into the run's working directory with the `git` binary, and returns
 * the clone's directory relative to the run's working directory.
 *
 * As in Prefect, the directory is named after the repository (`<name>` from
 * `.../<name>.git`), followed by `-<branch>` when a branch is given (a `/` in the branch becomes
 * `-`). When that directory already holds a clone of the same repository, it is updated with
 * `git pull` (re-cloned if that fails). The clone is shallow unless `commit_sha` is given;
 * `directories` makes it a sparse checkout. A failed clone is retried twice, after 0.5 s and 1 s.
 *
 * `access_token`, or a `credentials` block's `token` or `username` + `password`, is put into an
 * `https` URL (Prefect's rules for GitHub, GitLab and Bitbucket). It is removed from the clone's
 * stored remote afterwards and masked in every message, as is any user info written into
 * `repository`. Values that git would read as options (`--upload-pack=...`) and remote-helper
 * transports (`ext::`) are refused before anything runs; git never prompts
 * (`GIT_TERMINAL_PROMPT=0`).
 *
 * @param inputs The step's inputs (Prefect's names).
 * @param context The run's working directory and environment.
 * @returns `{ directory }`: the clone, relative to the run's working directory.
 * @throws {TypeError} when an input is missing, of the wrong type, option-like, or both
 * `access_token` and `credentials` are given.
 * @throws {CommandFailedError} when git fails (after the retries, for the clone itself).
 *
 * @example An option-like branch is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { git_clone } from "./git_clone.ts";
 * await assert.rejects(
 *   git_clone({ repository: "https://example.com/org/repo.git", branch: "--upload-pack=touch /tmp/x" }),
 *   TypeError,
 * );
 * ```
 */
// deno-lint-ignore camelcase -- Prefect's step names
export async function git_clone(
  inputs: GitCloneInputs,
  context?: StepContext,
): Promise<{ directory: string }> {
  const checked = checkInputs(STEP, inputs, {
    repository: "string",
    branch: "string",
    commit_sha: "string",
    include_submodules: "boolean",
    access_token: "string",
    credentials: "mapping",
    directories: "string list",
  }, { required: ["repository"] });
  const repository = checked.repository as string;
  const branch = checked.branch as string | undefined;
  const commitSha = checked.commit_sha as string | undefined;
  const submodules = (checked.include_submodules ?? false) as boolean;
  const accessToken = checked.access_token as string | undefined;
  const credentials = checked.credentials as
    | Record<string, unknown>
    | undefined;
  const directories = typeof checked.directories === "string"
    ? [checked.directories]
    : (checked.directories ?? []) as string[];

  refuseOptionLike("repository", repository, false);
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(repository)) {
    throw new TypeError(
      `Cannot run ${STEP}: input "repository" uses a remote-helper transport ("<name>::"), which can run commands; give an https, ssh, git or file URL`,
    );
  }
  if (branch !== undefined) refuseOptionLike("branch", branch, true);
  if (commitSha !== undefined) {
    refuseOptionLike("commit_sha", commitSha, true);
    if (!/^[0-9a-fA-F]{4,64}$/.test(commitSha)) {
      throw new TypeError(
        `Cannot run ${STEP}: input "commit_sha" must be a hexadecimal commit hash, found "${commitSha}"; give the commit's SHA`,
      );
    }
  }
  for (const directory of directories) {
    if (directory === "") {
      throw new TypeError(
        `Cannot run ${STEP}: input "directories" contains an empty path; remove it`,
      );
    }
    refuseOptionLike("directories", directory, true);
  }
  if (accessToken !== undefined && credentials !== undefined) {
    throw new TypeError(
      "Please provide either an access token or credentials but not both.",
    );
  }

  // Credentials go into https URLs only, as in Prefect.
  const secrets: string[] = [];
  let cloneUrl = repository;
  const cleanUrl = withoutUserInfo(repository);
  const url = parseUrl(repository);
  if (url !== undefined) {
    // A user name alone is a token (`https://<token>@host`); beside a password it is not secret.
    secrets.push(url.password === "" ? url.username : url.password);
    const given = accessToken !== undefined
      ? { access_token: accessToken }
      : credentials;
    if (given !== undefined) {
      const formatted = formatCredentials(url.hostname, given);
      secrets.push(formatted.password ?? formatted.username);
      if (url.protocol === "https:") {
        url.username = formatted.username;
        url.password = formatted.password ?? "";
        cloneUrl = url.href;
      }
    }
  } else if (credentials !== undefined) {
    // Still check the block's shape, as Prefect does whatever the URL.
    formatCredentials("", credentials);
  }
  if (accessToken !== undefined) secrets.push(accessToken);
  const mask = createMask(secrets);
  const shownUrl = mask(cleanUrl);

  const ctx = stepContext(context);
  const name = directoryName(repository, branch);
  const destination = join(ctx.workingDirectory, name);
  const env = {
    ...ctx.env,
    GIT_TERMINAL_PROMPT: "0",
    GCM_INTERACTIVE: "never",
  };

  async function git(
    args: string[],
    cwd: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const result = await runCommand("git", {
      step: STEP,
      // ext:: runs commands; it is off by default, and stays off whatever the config says.
      args: ["-c", "protocol.ext.allow=never", ...args],
      cwd,
      env,
      context: ctx,
    });
    return {
      code: result.code,
      stdout: mask(result.stdout).trim(),
      stderr: mask(result.stderr).trim(),
    };
  }
  async function mustGit(args: string[], cwd: string) {
    const result = await git(args, cwd);
    if (result.code !== 0) {
      throw new CommandFailedError(
        `Cannot clone repository "${shownUrl}": "git ${
          args[0]
        }" exited with code ${result.code}: ${summarize(result.stderr)}`,
        { exitCode: result.code, stdout: result.stdout, stderr: result.stderr },
      );
    }
    return result;
  }

  if (await pathExists(join(destination, ".git"))) {
    const origin = await git(
      ["config", "--get", "remote.origin.url"],
      destination,
    );
    if (withoutUserInfo(origin.stdout) !== cleanUrl) {
      throw new Error(
        `Cannot clone repository "${shownUrl}" into "${name}": the directory holds a clone of "${
          mask(withoutUserInfo(origin.stdout))
        }"; remove the directory or clone into another working directory`,
      );
    }
    if (await updateClone()) return { directory: name };
    await Deno.remove(destination, { recursive: true });
  }

  const existedBefore = await pathExists(destination);
  try {
    await clone();
    if (commitSha !== undefined) {
      const present = await git(
        ["cat-file", "-e", `${commitSha}^{commit}`],
        destination,
      );
      if (present.code !== 0) {
        await mustGit(["fetch", "origin", commitSha], destination);
      }
      await mustGit(["checkout", commitSha, "--"], destination);
    }
    if (directories.length > 0) {
      await mustGit(["sparse-checkout", "set", ...directories], destination);
    }
    if (cloneUrl !== cleanUrl) {
      // The token stays out of the clone's config on disk.
      await mustGit(["remote", "set-url", "origin", cleanUrl], destination);
    }
  } catch (error) {
    if (!existedBefore) {
      await Deno.remove(destination, { recursive: true }).catch(() => {});
    }
    throw error;
  }
  return { directory: name };

  async function clone(): Promise<void> {
    const args = ["clone"];
    if (branch !== undefined) args.push("--branch", branch);
    if (submodules) args.push("--recurse-submodules");
    if (directories.length > 0) args.push("--sparse");
    if (commitSha !== undefined) {
      args.push("--filter=blob:none", "--no-checkout");
    } else args.push("--depth", "1");
    args.push("--", cloneUrl, destination);
    let last = { code: 0, stdout: "", stderr: "" };
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      last = await git(args, ctx.workingDirectory);
      if (last.code === 0) return;
      if (attempt < ATTEMPTS) {
        if (!existedBefore) {
          await Deno.remove(destination, { recursive: true }).catch(() => {});
        }
        await wait(BASE_DELAY_MS * 2 ** (attempt - 1));
      }
    }
    throw new CommandFailedError(
      `Cannot clone repository "${shownUrl}": git exited with code ${last.code} after ${ATTEMPTS} attempts: ${
        summarize(last.stderr)
      }; check the URL, the branch and the credentials`,
      { exitCode: last.code, stdout: last.stdout, stderr: last.stderr },
    );
  }

  async function updateClone(): Promise<boolean> {
    if (commitSha !== undefined) {
      const head = await git(["rev-parse", "HEAD"], destination);
      return head.code === 0 &&
        head.stdout.toLowerCase().startsWith(commitSha.toLowerCase());
    }
    const args = ["pull", cloneUrl === cleanUrl ? "origin" : cloneUrl];
    if (branch !== undefined) args.push(branch);
    if (submodules) args.push("--recurse-submodules");
    args.push("--depth", "1");
    const pulled = await git(args, destination);
    if (pulled.code !== 0) return false;
    if (directories.length > 0) {
      await mustGit(["sparse-checkout", "set", ...directories], destination);
    }
    return true;
  }
}
