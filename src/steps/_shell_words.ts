/**
 * POSIX word splitting and `$VAR` expansion, as Prefect's `run_shell_script` does them
 * (`shlex.split` and `string.Template.safe_substitute`).
 *
 * @module
 */

/**
 * Splits one command line into words the way a POSIX shell does: whitespace separates words,
 * single quotes keep text literally, double quotes keep text except that a backslash escapes
 * `$`, `` ` ``, `"` and `\`, and outside quotes a backslash escapes the next character.
 * Nothing is expanded and `#` starts no comment (as with `shlex.split`).
 *
 * @param line The command line.
 * @returns The words.
 * @throws {SyntaxError} when a quote is not closed or the line ends with a lone backslash.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitShellWords } from "./_shell_words.ts";
 * assert.deepEqual(splitShellWords(`echo "a b" 'c d' e\\ f`), ["echo", "a b", "c d", "e f"]);
 * ```
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) {
        throw new SyntaxError(
          `Cannot split the command line: the single quote at column ${
            i + 1
          } is not closed; close it or escape it with a backslash`,
        );
      }
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= line.length) {
          throw new SyntaxError(
            `Cannot split the command line: the double quote at column ${
              start + 1
            } is not closed; close it or escape it with a backslash`,
          );
        }
        const c = line[i]!;
        if (c === '"') break;
        if (
          c === "\\" && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)
        ) {
          word += line[i + 1];
          i += 2;
        } else {
          word += c;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (ch === "\\") {
      if (i + 1 >= line.length) {
        throw new SyntaxError(
          "Cannot split the command line: it ends with a lone backslash; remove it or write \\\\",
        );
      }
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const TEMPLATE =
  /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\})/g;

/**
 * Replaces `$NAME` and `${NAME}` with values from `env`, leaving unknown names as they are and
 * turning `$$` into `$` (Python's `string.Template.safe_substitute`).
 *
 * @param text The text.
 * @param env The variables.
 * @returns The expanded text.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandEnvVars } from "./_shell_words.ts";
 * assert.equal(expandEnvVars("$A-${A} $B $$", { A: "x" }), "x-x $B $");
 * ```
 */
export function expandEnvVars(
  text: string,
  env: Readonly<Record<string, string>>,
): string {
  return text.replace(
    TEMPLATE,
    (match, dollar: string | undefined, bare?: string, braced?: string) => {
      if (dollar !== undefined) return "$";
      const name = bare ?? braced ?? "";
      return Object.hasOwn(env, name) ? env[name]! : match;
    },
  );
}
