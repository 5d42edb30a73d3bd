// Portable: no runtime APIs.
/**
 * Step file text (YAML or JSON) -> {@linkcode StepFile}: a list of steps, or a prefect.yaml
 * mapping with `build`, `push` and `pull` sections.
 *
 * The text is parsed with js-yaml, which is fast; positions (line, column) come from a second,
 * position-keeping parse with the `yaml` package, made only when something has to be reported.
 * So loading stays close to js-yaml's speed while every error still says `file:line:column`.
 *
 * @module
 */

import { PERMISSION_NAMES, type Step } from "../types.ts";
import {
  type SourcePosition,
  StepFileError,
  StepValidationError,
} from "../errors.ts";
import { type JsYaml, loadJsYaml } from "./_js_yaml.ts";
import { parseStep, RESERVED_KEYWORDS } from "./parse_step.ts";

/** The sections of a prefect.yaml file, in the order a run goes through them. */
export type SectionName = "build" | "push" | "pull";

/** The sections of a prefect.yaml file, in run order. */
export const SECTION_NAMES: readonly SectionName[] = Object.freeze([
  "build",
  "push",
  "pull",
]);

/** Where a step is: its section (absent in a list file), its index, and optionally one of its keys. */
export interface StepLocation {
  /** The section of a prefect.yaml file; absent for a file that is a list of steps. */
  section?: SectionName;
  /** The step's index in its list (0-based). */
  index: number;
  /** A key of the step (the reference or an input); when given, the position of that key. */
  key?: string;
}

/** A parsed step file. */
export interface StepFile {
  /** The file name used in messages, if any. */
  readonly file: string | undefined;
  /** `list`: the file is a list of steps; `sections`: a mapping with build/push/pull sections. */
  readonly form: "list" | "sections";
  /** The steps of a list file; empty for a sections file. */
  readonly steps: readonly Step[];
  /** The sections present in a sections file (`null` sections are empty lists); `{}` for a list file. */
  readonly sections: Readonly<Partial<Record<SectionName, readonly Step[]>>>;
  /** The whole document, other keys (`name`, `deployments`, ...) included. */
  readonly document: unknown;
  /**
   * The position of a step, or of one of its keys, computed on first use (a position-keeping
   * re-parse of the text). `undefined` when there is no such step.
   */
  locate(where: StepLocation): Promise<SourcePosition | undefined>;
}

/** Options of {@linkcode parseStepFile}. */
export interface ParseStepFileOptions {
  /** The file name used in positions and messages. @default undefined (`<input>`) */
  file?: string;
  /** The most nodes the document may expand to through aliases beyond its own nodes. @default 100000 */
  maxAliasExpansion?: number;
  /** The deepest nesting of collections allowed. @default 500 */
  maxDepth?: number;
}

interface JsYamlError {
  name: string;
  reason?: string;
  mark?: { line: number; column: number };
}

// YAML 1.2 core types plus `<<` merge keys (common in prefect.yaml files): no timestamps or
// binary, so every value is plain JSON data, as it would be from the position-keeping parser.
let parser: { yaml: JsYaml; schema: unknown } | undefined;
async function stepFileParser(): Promise<{ yaml: JsYaml; schema: unknown }> {
  if (parser === undefined) {
    const yaml = await loadJsYaml();
    parser = {
      yaml,
      schema: yaml.CORE_SCHEMA.extend({ implicit: [yaml.types.merge] }),
    };
  }
  return parser;
}

/** Top-level keys of prefect.yaml that are kept and ignored. */
const KNOWN_KEYS = new Set([
  "name",
  "prefect-version",
  "deployments",
  "definitions",
  "description",
]);

type PathItem = string | number;

/**
 * Parses step file text into a {@linkcode StepFile} and checks its shape: a list of steps or a
 * mapping of `build`/`push`/`pull` lists, each step a mapping with exactly one key (the step
 * reference) whose value is the mapping of inputs.
 *
 * @param text The YAML or JSON text.
 * @param options The file name for messages and resource limits.
 * @returns The parsed file.
 * @throws {StepFileError} when the text does not parse (with the line and column), is empty,
 * has duplicate keys, expands aliases beyond the limit, or a section or step is malformed.
 *
 * @example A list of steps
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStepFile } from "./parse_step_file.ts";
 * const file = await parseStepFile("- ./steps.ts#greet:\n    name: Ada\n", { file: "a.yaml" });
 * assert.equal(file.form, "list");
 * assert.deepEqual(file.steps, [{ "./steps.ts#greet": { name: "Ada" } }]);
 * assert.deepEqual(await file.locate({ index: 0 }), { file: "a.yaml", line: 1, column: 3 });
 * ```
 *
 * @example A malformed step, reported with its position
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStepFile } from "./parse_step_file.ts";
 * await assert.rejects(
 *   parseStepFile("pull:\n  - a.b.c:\n    x: 1\n", { file: "prefect.yaml" }),
 *   { message: "prefect.yaml:3:5: Step has unexpected additional keys: x" },
 * );
 * ```
 */
export async function parseStepFile(
  text: string,
  options: ParseStepFileOptions = {},
): Promise<StepFile> {
  const file = options.file;
  const limits = {
    maxAliasExpansion: options.maxAliasExpansion ?? 100_000,
    maxDepth: options.maxDepth ?? 500,
  };
  const parser = await stepFileParser();
  let document: unknown;
  try {
    document = parser.yaml.load(text, { schema: parser.schema });
  } catch (error) {
    throw toSyntaxError(error, text, file);
  }
  // Aliases are shared references after js-yaml: a bomb costs nothing until something walks it,
  // so measure what it would expand to (only when the text can hold an alias at all).
  if (text.includes("*")) {
    const problem = measure(document, limits);
    if (problem !== undefined) {
      const where = await findAlias(text, file);
      throw new StepFileError(problem, where);
    }
  }
  const shaped = shape(document);
  if ("problem" in shaped) {
    const where = await locatePath(text, shaped.path, shaped.target, file);
    const path = render(shaped.path);
    throw new StepFileError(shaped.problem, {
      ...where,
      ...(path !== undefined ? { path } : {}),
    });
  }
  return createStepFile(text, file, document, shaped);
}

interface Shaped {
  form: "list" | "sections";
  steps: readonly Step[];
  sections: Partial<Record<SectionName, readonly Step[]>>;
}

interface Problem {
  problem: string;
  path: PathItem[];
  /** `key`: the position of the last path item's key; `value`: of the value it holds. */
  target: "key" | "value";
}

function shape(document: unknown): Shaped | Problem {
  if (document === undefined || document === null) {
    return {
      problem:
        "Cannot parse step file: it is empty; write a list of steps or a mapping with build, push or pull sections",
      path: [],
      target: "value",
    };
  }
  if (Array.isArray(document)) {
    const problem = checkSteps(document, []);
    return problem ?? { form: "list", steps: document as Step[], sections: {} };
  }
  if (!isMapping(document)) {
    return {
      problem:
        `Cannot parse step file: expected a list of steps or a mapping with build, push or pull sections, found ${
          describe(document)
        }`,
      path: [],
      target: "value",
    };
  }
  const sections: Partial<Record<SectionName, readonly Step[]>> = {};
  let recognized = false;
  for (const key of Object.keys(document)) {
    const value = document[key];
    if ((SECTION_NAMES as readonly string[]).includes(key)) {
      recognized = true;
      if (value === null || value === undefined) {
        sections[key as SectionName] = [];
        continue;
      }
      if (!Array.isArray(value)) {
        return {
          problem: `Section "${key}" must be a list of steps, found ${
            describe(value)
          }`,
          path: [key],
          target: "value",
        };
      }
      const problem = checkSteps(value, [key]);
      if (problem) return problem;
      sections[key as SectionName] = value as Step[];
      continue;
    }
    if (KNOWN_KEYS.has(key)) {
      recognized = true;
      continue;
    }
    const suggestion = closestSection(key);
    if (suggestion !== undefined || looksLikeSteps(value)) {
      return {
        problem: suggestion !== undefined
          ? `Unknown section "${key}": did you mean "${suggestion}"?`
          : `Unknown section "${key}": steps go under build, push or pull (or make the whole file a list of steps)`,
        path: [key],
        target: "key",
      };
    }
  }
  if (!recognized) {
    return {
      problem:
        "Cannot parse step file: found a mapping without build, push or pull sections; add one of them or make the file a list of steps",
      path: [],
      target: "value",
    };
  }
  return { form: "sections", steps: [], sections };
}

function checkSteps(
  steps: readonly unknown[],
  path: PathItem[],
): Problem | undefined {
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    if (step === null || step === undefined) continue;
    if (!isMapping(step)) {
      return {
        problem:
          `Step must be a mapping with one key, the step reference, found ${
            describe(step)
          }`,
        path: [...path, index],
        target: "value",
      };
    }
    const keys = Object.keys(step);
    if (keys.length === 0) continue;
    if (keys.length > 1) {
      const extra = keys.slice(1);
      return {
        // Prefect's wording, fixed by the design.
        problem: `Step has unexpected additional keys: ${extra.join(", ")}`,
        path: [...path, index, extra[0] as string],
        target: "key",
      };
    }
    const reference = keys[0] as string;
    if (reference.trim() === "") {
      return {
        problem:
          'Step reference is empty: write a module reference such as "./steps.ts#main" or "prefect.deployments.steps.run_shell_script"',
        path: [...path, index, reference],
        target: "key",
      };
    }
    const inputs = step[reference];
    if (inputs !== null && inputs !== undefined && !isMapping(inputs)) {
      return {
        problem: `Inputs of step "${reference}" must be a mapping, found ${
          describe(inputs)
        }`,
        path: [...path, index, reference],
        target: "value",
      };
    }
    // The same checks the run makes before it starts (reserved keywords, plain inputs),
    // here so that their errors carry a position too. parseStep() costs about a quarter of
    // the YAML parse itself, so steps that plainly pass are not handed to it; anything
    // unusual is, and its verdict (and wording) is the one reported.
    if (plainlyValid(reference, inputs)) continue;
    try {
      parseStep(step, index);
    } catch (error) {
      if (!(error instanceof StepValidationError)) throw error;
      return {
        problem: error.message,
        path: [...path, index, reference, ...keyOf(error.message, inputs)],
        target: "value",
      };
    }
  }
  return undefined;
}

const PERMISSION_KINDS = new Set<string>(PERMISSION_NAMES);

/**
 * A conservative fast check: true only for steps that parseStep() certainly accepts. Inputs
 * from js-yaml are always plain data (cycles need aliases, which measure() rejects), so only
 * the reference and the reserved keywords need a look.
 */
function plainlyValid(reference: string, inputs: unknown): boolean {
  if (/\s/.test(reference) || !isMapping(inputs)) return false;
  if (Object.getPrototypeOf(inputs) !== Object.prototype) return false;
  const { id, timeout, retries, requires, permissions } = inputs;
  if (id !== undefined && typeof id !== "string") return false;
  if (
    timeout !== undefined &&
    !(typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0)
  ) return false;
  if (
    retries !== undefined &&
    !(typeof retries === "number" && Number.isInteger(retries) && retries >= 0)
  ) return false;
  if (requires !== undefined) {
    const list = typeof requires === "string" ? [requires] : requires;
    if (!isTextList(list)) return false;
  }
  if (permissions !== undefined) {
    if (!isMapping(permissions)) return false;
    for (const kind of Object.keys(permissions)) {
      const grant = permissions[kind];
      if (!PERMISSION_KINDS.has(kind)) return false;
      if (typeof grant !== "boolean" && !isTextList(grant)) return false;
    }
  }
  return true;
}

function isTextList(value: unknown): boolean {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string" && item.trim() !== "");
}

/** The input key a validation message names (`"timeout" must be ...`, `input "a.b" is ...`). */
function keyOf(message: string, inputs: unknown): string[] {
  if (!isMapping(inputs)) return [];
  for (const keyword of RESERVED_KEYWORDS) {
    const named = message.includes(`"${keyword}"`) ||
      message.includes(`the ${keyword} of`);
    if (named && Object.hasOwn(inputs, keyword)) {
      return [keyword];
    }
  }
  const input = /input "([^".\[]+)/.exec(message)?.[1];
  return input !== undefined && Object.hasOwn(inputs, input) ? [input] : [];
}

function looksLikeSteps(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 &&
    value.every((item) =>
      item === null || (isMapping(item) && Object.keys(item).length <= 1)
    );
}

function closestSection(key: string): SectionName | undefined {
  const lower = key.toLowerCase();
  let best: SectionName | undefined;
  let bestDistance = Infinity;
  for (const name of SECTION_NAMES) {
    const distance = editDistance(lower, name);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = name;
    }
  }
  return bestDistance <= 2 && bestDistance < key.length ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment), so `biuld` is one step from `build`. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (
        i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]
      ) {
        value = Math.min(value, (rows[i - 2] as number[])[j - 2] as number + 1);
      }
      row.push(value);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * Walks the document once, counting what it expands to when shared (aliased) nodes are
 * copied, the way templating, cloning and JSON output would. Returns a problem, or undefined.
 */
function measure(
  document: unknown,
  limits: { maxAliasExpansion: number; maxDepth: number },
): string | undefined {
  const sizes = new Map<object, number>();
  const active = new Set<object>();
  let unique = 0;
  let problem: string | undefined;
  function size(node: unknown, depth: number): number {
    if (typeof node !== "object" || node === null) {
      unique++;
      return 1;
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (active.has(node)) {
      problem =
        "Cannot parse step file: an alias refers to its own anchor (a cycle); remove the self-reference";
      return Infinity;
    }
    if (depth > limits.maxDepth) {
      problem =
        `Cannot parse step file: it nests deeper than ${limits.maxDepth} levels; flatten the data`;
      return Infinity;
    }
    active.add(node);
    unique++;
    let total = 1;
    const values = Array.isArray(node) ? node : Object.values(node);
    for (const value of values) {
      total += size(value, depth + 1);
      if (problem !== undefined) break;
    }
    active.delete(node);
    sizes.set(node, total);
    return total;
  }
  const total = size(document, 0);
  if (problem !== undefined) return problem;
  if (total - unique > limits.maxAliasExpansion) {
    return `Cannot parse step file: its aliases expand to more than ${limits.maxAliasExpansion} extra nodes (an alias bomb?); reduce the use of aliases`;
  }
  return undefined;
}

function toSyntaxError(
  error: unknown,
  text: string,
  file: string | undefined,
): StepFileError {
  if (error instanceof RangeError) {
    return new StepFileError(
      "Cannot parse step file: it nests too deeply; flatten the data",
      { ...(file !== undefined ? { file } : {}), line: 1, column: 1 },
    );
  }
  const yamlError = error as JsYamlError;
  if (
    typeof yamlError !== "object" || yamlError === null ||
    yamlError.name !== "YAMLException"
  ) {
    return new StepFileError(
      `Cannot parse step file: ${String((error as Error)?.message ?? error)}`,
      file !== undefined ? { file } : {},
      { cause: error },
    );
  }
  const line = (yamlError.mark?.line ?? 0) + 1;
  const column = (yamlError.mark?.column ?? 0) + 1;
  const reason = yamlError.reason ?? "invalid YAML";
  const sourceLine = text.split(/\r?\n/, line)[line - 1] ?? "";
  let message: string;
  if (reason === "duplicated mapping key") {
    const key = keyAt(sourceLine.slice(column - 1));
    message = key === undefined
      ? "Duplicate key: each key may appear only once in a mapping"
      : `Duplicate key "${key}": each key may appear only once in a mapping`;
  } else if (reason.startsWith("bad indentation")) {
    message = `B${
      reason.slice(1)
    }: align the keys of one mapping in the same column, nested keys further right`;
  } else {
    message = `Cannot parse YAML: ${reason}`;
  }
  return new StepFileError(message, {
    ...(file !== undefined ? { file } : {}),
    line,
    column,
    snippet: snippetOf(sourceLine, column),
  });
}

function keyAt(text: string): string | undefined {
  const match = /^\s*(?:-\s+)?(?:"([^"]*)"|'([^']*)'|([^:#\s][^:#]*?))\s*:/
    .exec(text);
  if (match === null) return undefined;
  return match[1] ?? match[2] ?? match[3];
}

function snippetOf(line: string, column: number): string {
  return `${line}\n${" ".repeat(Math.max(0, column - 1))}^`;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function render(path: readonly PathItem[]): string | undefined {
  if (path.length === 0) return undefined;
  let out = "";
  for (const item of path) {
    out += typeof item === "number"
      ? `[${item}]`
      : out === ""
      ? item
      : `.${item}`;
  }
  return out;
}

function createStepFile(
  text: string,
  file: string | undefined,
  document: unknown,
  shaped: Shaped,
): StepFile {
  return Object.freeze({
    file,
    form: shaped.form,
    steps: shaped.steps,
    sections: shaped.sections,
    document,
    async locate(where: StepLocation) {
      const path: PathItem[] = where.section === undefined
        ? [where.index]
        : [where.section, where.index];
      const steps = where.section === undefined
        ? shaped.steps
        : shaped.sections[where.section];
      if (steps === undefined || where.index >= steps.length) return undefined;
      if (where.key !== undefined) path.push(where.key);
      const found = await locatePath(
        text,
        path,
        where.key !== undefined ? "key" : "value",
        file,
      );
      return found.line === undefined ? undefined : {
        ...(file !== undefined ? { file } : {}),
        line: found.line,
        column: found.column ?? 1,
      };
    },
  });
}

// The `yaml` package is loaded only when a position is needed: it keeps ranges for every
// node, but it is several times slower to load and to parse than js-yaml.
type YamlModule = typeof import("npm:yaml@^2.9.1");

interface Where {
  file?: string;
  line?: number;
  column?: number;
  snippet?: string;
}

async function positionParser(text: string) {
  const module: YamlModule & { default?: YamlModule } = await import(
    "npm:yaml@^2.9.1"
  );
  // Bundled for Node, the package's CommonJS build arrives as the default export.
  const yaml = typeof module.LineCounter === "function"
    ? module
    : module.default as YamlModule;
  const lineCounter = new yaml.LineCounter();
  const document = yaml.parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    keepSourceTokens: false,
  });
  return { yaml, lineCounter, document };
}

async function locatePath(
  text: string,
  path: readonly PathItem[],
  target: "key" | "value",
  file: string | undefined,
): Promise<Where> {
  const base: Where = file !== undefined ? { file } : {};
  const { yaml, lineCounter, document } = await positionParser(text);
  // deno-lint-ignore no-explicit-any -- the yaml node types are a wide union; we only read ranges
  let node: any = document.contents;
  let range: [number, number, number] | undefined = node?.range;
  for (let i = 0; i < path.length; i++) {
    const item = path[i];
    if (yaml.isAlias(node)) node = node.resolve(document);
    if (typeof item === "number" && yaml.isSeq(node)) {
      node = node.items[item];
      range = node?.range ?? range;
    } else if (typeof item === "string" && yaml.isMap(node)) {
      // The last matching pair: with duplicate keys allowed in this parse, js-yaml's view
      // would have failed earlier, so there is at most one.
      // deno-lint-ignore no-explicit-any -- see above
      const pair: any = node.items.find((candidate: { key: unknown }) => {
        const key = candidate.key;
        return yaml.isScalar(key) ? String(key.value) === item : false;
      });
      if (pair === undefined) break;
      const last = i === path.length - 1;
      if (last && target === "key") {
        node = pair.key;
        range = pair.key?.range ?? range;
      } else {
        node = pair.value;
        range = pair.value?.range ?? pair.key?.range ?? range;
      }
    } else {
      break;
    }
  }
  const offset = range?.[0] ?? firstContentOffset(text);
  const { line, col } = lineCounter.linePos(offset);
  const sourceLine = text.split(/\r?\n/, line)[line - 1] ?? "";
  return { ...base, line, column: col, snippet: snippetOf(sourceLine, col) };
}

function firstContentOffset(text: string): number {
  const match = /[^\s#]/.exec(
    text.replace(/#.*$/gm, (m) => " ".repeat(m.length)),
  );
  return match?.index ?? 0;
}

async function findAlias(
  text: string,
  file: string | undefined,
): Promise<Where> {
  const base: Where = file !== undefined ? { file } : {};
  try {
    const { yaml, lineCounter, document } = await positionParser(text);
    let offset: number | undefined;
    yaml.visit(document, {
      Alias(_key, node) {
        offset = node.range?.[0];
        return yaml.visit.BREAK;
      },
    });
    if (offset === undefined) return { ...base, line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    const sourceLine = text.split(/\r?\n/, line)[line - 1] ?? "";
    return { ...base, line, column: col, snippet: snippetOf(sourceLine, col) };
  } catch {
    return { ...base, line: 1, column: 1 };
  }
}
