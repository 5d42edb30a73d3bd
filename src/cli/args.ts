/**
 * argv -> {@linkcode CliOptions}: pure, no I/O, so every flag is tested without a process.
 *
 * @module
 */

import type {
  Isolation,
  PermissionName,
  Permissions,
  PermissionValue,
} from "../types.ts";
import type { SectionName } from "../core/parse_step_file.ts";
import { PERMISSION_NAMES } from "../types.ts";

/** `stepbox run` */
export interface RunCliOptions {
  command: "run";
  /** The step file; absent: `./stepbox.yaml`, else `./prefect.yaml`. */
  file?: string;
  /** Run only this section. */
  section?: SectionName;
  /** `--set key=value` seeds, in order (values stay strings). */
  set: Record<string, string>;
  /** `--vars-file FILE`: a YAML/JSON mapping of seeds (types kept). */
  varsFile?: string;
  /** `--import-map FILE`. */
  importMap?: string;
  /** `--isolation step|pool|inline`. */
  isolation?: Isolation;
  /** The ceiling from `--allow-*` flags; absent when no such flag was given. */
  allow?: Permissions;
  /** `--timeout S`: the default step timeout in seconds. */
  timeout?: number;
  /** `--events FILE`: write events as JSON Lines. */
  events?: string;
  /** `--dry-run`: describe the steps, run nothing. */
  dryRun: boolean;
  /** `--allow-unenforced`: run steps that request permissions on an executor that cannot enforce them. */
  allowUnenforced?: boolean;
}

/** `stepbox validate` */
export interface ValidateCliOptions {
  command: "validate";
  file?: string;
}

/** `stepbox variable set|get|ls|rm` */
export interface VariableCliOptions {
  command: "variable";
  action: "set" | "get" | "ls" | "rm";
  name?: string;
  value?: string;
  /** `--json`: the value is JSON (number, object, ...), not a string. */
  json: boolean;
}

/** `stepbox block set|get|ls|rm` */
export interface BlockCliOptions {
  command: "block";
  action: "set" | "get" | "ls" | "rm";
  /** The block type slug of `<type-slug>/<name>`. */
  slug?: string;
  name?: string;
  /** `--value TEXT` (`-` reads standard input): the block's data is `{ "value": TEXT }`. */
  value?: string;
  /** `--json '{...}'`: the block's data. */
  json?: string;
  /** `--reveal`: `get` prints the data instead of `***`. */
  reveal: boolean;
}

/** `--help` on a command (or `stepbox help [command]`). */
export interface HelpCliOptions {
  command: "help";
  topic: "stepbox" | "run" | "validate" | "variable" | "block";
}

/** `--version` */
export interface VersionCliOptions {
  command: "version";
}

/** What the command line asks for. */
export type CliOptions =
  | RunCliOptions
  | ValidateCliOptions
  | VariableCliOptions
  | BlockCliOptions
  | HelpCliOptions
  | VersionCliOptions;

/**
 * The command line is wrong: the CLI prints the message and exits with 2.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./args.ts";
 * const error = new UsageError("Flag \"--set\" needs key=value", "run");
 * assert.equal(error.topic, "run");
 * ```
 */
export class UsageError extends TypeError {
  /** The command whose help to point at. */
  readonly topic: HelpCliOptions["topic"];
  constructor(message: string, topic: HelpCliOptions["topic"] = "stepbox") {
    super(message);
    this.name = "UsageError";
    this.topic = topic;
  }
}

const PERMISSION_FLAGS: Record<string, PermissionName> = {
  "--allow-read": "read",
  "--allow-write": "write",
  "--allow-net": "net",
  "--allow-env": "env",
  "--allow-run": "run",
  "--allow-sys": "sys",
  "--allow-ffi": "ffi",
  "--allow-import": "import",
};

/**
 * Parses the arguments after the program name.
 *
 * @param argv The arguments, such as `["run", "steps.yaml", "--set", "a=1"]`.
 * @returns The command and its options.
 * @throws {UsageError} when a command, flag or value is unknown or malformed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 * const options = parseArgs(["run", "flow.yaml", "--set", "repository=https://x", "--allow-net=api.example.com"]);
 * assert.deepEqual(options, {
 *   command: "run",
 *   file: "flow.yaml",
 *   set: { repository: "https://x" },
 *   allow: { net: ["api.example.com"] },
 *   dryRun: false,
 * });
 * assert.throws(() => parseArgs(["run", "--set", "novalue"]), { name: "UsageError" });
 * ```
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const [command, ...rest] = argv;
  if (command === undefined) return { command: "help", topic: "stepbox" };
  if (command === "--help" || command === "-h" || command === "help") {
    const topic = rest[0];
    if (topic === undefined) return { command: "help", topic: "stepbox" };
    if (isTopic(topic)) return { command: "help", topic };
    throw new UsageError(
      `Unknown command "${topic}": use run, validate, variable or block`,
    );
  }
  if (command === "--version" || command === "-V") {
    return { command: "version" };
  }
  switch (command) {
    case "run":
      return parseRun(rest);
    case "validate":
      return parseValidate(rest);
    case "variable":
      return parseVariable(rest);
    case "block":
      return parseBlock(rest);
  }
  if (command.startsWith("-")) {
    throw new UsageError(
      `Unknown flag "${command}": a command comes first, such as "stepbox run --help"`,
    );
  }
  throw new UsageError(
    `Unknown command "${command}": use run, validate, variable or block`,
  );
}

function isTopic(value: string): value is HelpCliOptions["topic"] {
  return ["run", "validate", "variable", "block"].includes(value);
}

/** Splits `--flag=value` and takes `--flag value` from the next argument when needed. */
class Reader {
  readonly #args: readonly string[];
  readonly #topic: HelpCliOptions["topic"];
  #index = 0;
  constructor(args: readonly string[], topic: HelpCliOptions["topic"]) {
    this.#args = args;
    this.#topic = topic;
  }
  next(): string | undefined {
    return this.#args[this.#index++];
  }
  value(flag: string, inline: string | undefined): string {
    if (inline !== undefined) return inline;
    const value = this.#args[this.#index];
    if (value === undefined || (value.startsWith("--") && value.length > 2)) {
      throw new UsageError(
        `Flag "${flag}" needs a value, such as "${flag} ${example(flag)}"`,
        this.#topic,
      );
    }
    this.#index++;
    return value;
  }
}

function example(flag: string): string {
  switch (flag) {
    case "--set":
      return "key=value";
    case "--section":
      return "pull";
    case "--isolation":
      return "pool";
    case "--timeout":
      return "60";
    case "--value":
      return "s3cr3t";
    case "--json":
      return `'{"value": "s3cr3t"}'`;
    default:
      return "FILE";
  }
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf("=");
  return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
}

function isHelp(arg: string): boolean {
  return arg === "--help" || arg === "-h";
}

function unknownFlag(flag: string, topic: HelpCliOptions["topic"]): never {
  throw new UsageError(
    `Unknown flag "${flag}" for "stepbox ${topic}"`,
    topic,
  );
}

function parseRun(args: readonly string[]): CliOptions {
  const out: RunCliOptions = { command: "run", set: {}, dryRun: false };
  const set: Record<string, string> = Object.create(null);
  let allow: Permissions | undefined;
  const reader = new Reader(args, "run");
  for (let arg = reader.next(); arg !== undefined; arg = reader.next()) {
    if (isHelp(arg)) return { command: "help", topic: "run" };
    if (!arg.startsWith("-") || arg === "-") {
      if (out.file !== undefined) {
        throw new UsageError(
          `Unexpected argument "${arg}": "stepbox run" takes one step file, already given "${out.file}"`,
          "run",
        );
      }
      out.file = arg;
      continue;
    }
    const [flag, inline] = splitFlag(arg);
    if (flag in PERMISSION_FLAGS) {
      allow ??= {};
      const kind = PERMISSION_FLAGS[flag] as PermissionName;
      allow[kind] = merge(
        allow[kind],
        inline === undefined ? true : list(inline),
      );
      continue;
    }
    switch (flag) {
      case "--allow-all":
      case "-A":
        if (inline !== undefined) unknownFlag(arg, "run");
        allow = Object.fromEntries(
          PERMISSION_NAMES.map((kind) => [kind, true]),
        );
        break;
      case "--set": {
        const pair = reader.value(flag, inline);
        const eq = pair.indexOf("=");
        if (eq <= 0) {
          throw new UsageError(
            `Flag "--set" needs key=value, found ${
              JSON.stringify(pair)
            }; write it as "--set ${eq === 0 ? "key" : pair}=value"`,
            "run",
          );
        }
        set[pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      case "--section": {
        const section = reader.value(flag, inline);
        if (section !== "build" && section !== "push" && section !== "pull") {
          throw new UsageError(
            `Flag "--section" must be build, push or pull, found ${
              JSON.stringify(section)
            }`,
            "run",
          );
        }
        out.section = section;
        break;
      }
      case "--vars-file":
        out.varsFile = reader.value(flag, inline);
        break;
      case "--import-map":
        out.importMap = reader.value(flag, inline);
        break;
      case "--isolation": {
        const isolation = reader.value(flag, inline);
        if (
          isolation !== "step" && isolation !== "pool" && isolation !== "inline"
        ) {
          throw new UsageError(
            `Flag "--isolation" must be step, pool or inline, found ${
              JSON.stringify(isolation)
            }`,
            "run",
          );
        }
        out.isolation = isolation;
        break;
      }
      case "--timeout": {
        const text = reader.value(flag, inline);
        const seconds = Number(text);
        if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
          throw new UsageError(
            `Flag "--timeout" must be a positive number of seconds, found ${
              JSON.stringify(text)
            }`,
            "run",
          );
        }
        out.timeout = seconds;
        break;
      }
      case "--events":
        out.events = reader.value(flag, inline);
        break;
      case "--dry-run":
        if (inline !== undefined) unknownFlag(arg, "run");
        out.dryRun = true;
        break;
      case "--allow-unenforced":
        if (inline !== undefined) unknownFlag(arg, "run");
        out.allowUnenforced = true;
        break;
      default:
        unknownFlag(flag, "run");
    }
  }
  out.set = { ...set };
  if (allow !== undefined) out.allow = allow;
  return out;
}

function merge(
  current: PermissionValue | undefined,
  next: PermissionValue,
): PermissionValue {
  if (current === true || next === true) return true;
  if (current === undefined || current === false) return next;
  if (next === false) return current;
  return [...new Set([...current, ...next])];
}

function list(text: string): string[] {
  return text.split(",").map((item) => item.trim()).filter((item) =>
    item !== ""
  );
}

function parseValidate(args: readonly string[]): CliOptions {
  const out: ValidateCliOptions = { command: "validate" };
  const reader = new Reader(args, "validate");
  for (let arg = reader.next(); arg !== undefined; arg = reader.next()) {
    if (isHelp(arg)) return { command: "help", topic: "validate" };
    if (arg.startsWith("-") && arg !== "-") unknownFlag(arg, "validate");
    if (out.file !== undefined) {
      throw new UsageError(
        `Unexpected argument "${arg}": "stepbox validate" takes one step file`,
        "validate",
      );
    }
    out.file = arg;
  }
  return out;
}

function parseAction(
  args: readonly string[],
  topic: "variable" | "block",
): { action: "set" | "get" | "ls" | "rm"; rest: readonly string[] } {
  const [action, ...rest] = args;
  if (action === "set" || action === "get" || action === "rm") {
    return { action, rest };
  }
  if (action === "ls" || action === "list") return { action: "ls", rest };
  if (action === "delete" || action === "remove") return { action: "rm", rest };
  throw new UsageError(
    action === undefined
      ? `"stepbox ${topic}" needs an action: set, get, ls or rm`
      : `Unknown action "${action}" for "stepbox ${topic}": use set, get, ls or rm`,
    topic,
  );
}

function parseVariable(args: readonly string[]): CliOptions {
  if (args.some(isHelp)) return { command: "help", topic: "variable" };
  const { action, rest } = parseAction(args, "variable");
  const out: VariableCliOptions = { command: "variable", action, json: false };
  const positional: string[] = [];
  for (const arg of rest) {
    if (arg === "--json") out.json = true;
    else if (arg.startsWith("--")) unknownFlag(arg, "variable");
    else positional.push(arg);
  }
  const wanted = action === "set" ? 2 : action === "ls" ? 0 : 1;
  if (positional.length !== wanted) {
    throw new UsageError(
      {
        set:
          `"stepbox variable set" needs a name and a value, such as "stepbox variable set region eu-west-3"`,
        get:
          `"stepbox variable get" needs one name, such as "stepbox variable get region"`,
        rm:
          `"stepbox variable rm" needs one name, such as "stepbox variable rm region"`,
        ls: `"stepbox variable ls" takes no arguments`,
      }[action],
      "variable",
    );
  }
  if (positional[0] !== undefined) out.name = positional[0];
  if (positional[1] !== undefined) out.value = positional[1];
  return out;
}

function parseBlock(args: readonly string[]): CliOptions {
  if (args.some(isHelp)) return { command: "help", topic: "block" };
  const { action, rest } = parseAction(args, "block");
  const out: BlockCliOptions = { command: "block", action, reveal: false };
  const positional: string[] = [];
  const reader = new Reader(rest, "block");
  for (let arg = reader.next(); arg !== undefined; arg = reader.next()) {
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = splitFlag(arg);
    if (flag === "--value" && action === "set") {
      out.value = reader.value(flag, inline);
    } else if (flag === "--json" && action === "set") {
      out.json = reader.value(flag, inline);
    } else if (
      flag === "--reveal" && action === "get" && inline === undefined
    ) {
      out.reveal = true;
    } else unknownFlag(flag, "block");
  }
  if (action === "ls") {
    if (positional.length > 0) {
      throw new UsageError(`"stepbox block ls" takes no arguments`, "block");
    }
    return out;
  }
  const target = positional[0];
  if (positional.length !== 1 || target === undefined) {
    throw new UsageError(
      `"stepbox block ${action}" needs one <type-slug>/<name>, such as "secret/api-token"`,
      "block",
    );
  }
  const slash = target.indexOf("/");
  if (slash <= 0 || slash === target.length - 1) {
    throw new UsageError(
      `Block ${
        JSON.stringify(target)
      } must be written <type-slug>/<name>, such as "secret/api-token"`,
      "block",
    );
  }
  out.slug = target.slice(0, slash);
  out.name = target.slice(slash + 1);
  if (action === "set") {
    if ((out.value === undefined) === (out.json === undefined)) {
      throw new UsageError(
        `"stepbox block set" needs exactly one of --value TEXT and --json '{...}'`,
        "block",
      );
    }
  }
  return out;
}
