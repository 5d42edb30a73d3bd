// deno-lint-ignore-file no-console -- a command-line script: printing is its job
/**
 * Verifies that the portable core stays portable: no `Deno.` API, no `node:` import, no
 * `Worker`, and the `// Portable: no runtime APIs.` header, in src/core/ and the shared
 * portable files. Comments are ignored, so they may mention those names.
 *
 * Usage: `deno run --allow-read scripts/check_portable.ts` (exit 1 and a list of offenders on failure)
 *
 * @module
 */

import { listFiles } from "./_list_files.ts";

/** The portable files and directories, relative to the repository root. */
export const PORTABLE_PATHS: readonly string[] = Object.freeze([
  "src/core/",
  "src/types.ts",
  "src/_util/source_url.ts",
  "src/_util/runtime.ts",
  "src/errors.ts",
  "src/values/value_source.ts",
  "src/values/memory.ts",
]);

const HEADER = "// Portable: no runtime APIs.";

const RULES: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\bDeno\s*\./, what: "uses the Deno namespace" },
  {
    pattern: /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:/,
    what: "imports a node: module",
  },
  { pattern: /\bWorker\b/, what: "uses Worker" },
];

/** One rule broken at one place. */
export interface Offence {
  file: string;
  line: number;
  what: string;
  text: string;
}

/** Blanks out comments, keeping line breaks so line numbers stay right. */
function stripComments(source: string): string {
  return source.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (match, literal) => literal ?? match.replace(/[^\n]/g, " "),
  );
}

/** Checks one file's text. */
export function checkSource(file: string, source: string): Offence[] {
  const offences: Offence[] = [];
  if (!source.startsWith(HEADER)) {
    offences.push({
      file,
      line: 1,
      what: `does not open with "${HEADER}"`,
      text: source.split("\n", 1)[0] ?? "",
    });
  }
  const lines = stripComments(source).split("\n");
  const original = source.split("\n");
  lines.forEach((line, i) => {
    for (const rule of RULES) {
      if (rule.pattern.test(line)) {
        offences.push({
          file,
          line: i + 1,
          what: rule.what,
          text: (original[i] ?? "").trim(),
        });
      }
    }
  });
  return offences;
}

/**
 * Checks every portable file under a repository root.
 *
 * @param root The repository root (a directory URL ending in `/`).
 * @param paths The files and directories to check.
 * @returns Every offence found (empty when all is portable).
 */
export function checkPortable(
  root: URL = new URL("../", import.meta.url),
  paths: readonly string[] = PORTABLE_PATHS,
): Offence[] {
  const offences: Offence[] = [];
  for (const path of paths) {
    for (const file of listFiles(root, path)) {
      offences.push(
        ...checkSource(file, Deno.readTextFileSync(new URL(file, root))),
      );
    }
  }
  return offences;
}

if (import.meta.main) {
  const offences = checkPortable();
  for (const o of offences) {
    console.error(`${o.file}:${o.line}: ${o.what}: ${o.text}`);
  }
  if (offences.length > 0) {
    console.error(
      `${offences.length} portability offence(s): move runtime-specific code to src/sandbox/, src/io/ or src/cli/`,
    );
    Deno.exit(1);
  }
  console.log("Portable files are clean");
}
