/**
 * What a run shows: progress on stderr (a line per step with its name, status and duration;
 * live on a terminal), streamed step output, the outputs as JSON on stdout, events as JSON
 * Lines — with every secret value masked as `***` in all of it, as GitHub Actions does.
 *
 * @module
 */

import type { OutputChunk, StepEvent } from "../types.ts";

/** Where the report goes; `main.ts` provides the real streams. */
export interface ReportSink {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether standard error is a terminal (live progress). */
  live: boolean;
  /** Whether to use colours. */
  color: boolean;
}

/**
 * Replaces every known secret in text with `***`: the value as is, as it appears inside a
 * JSON string, and each line of a multi-line value.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Masker } from "./report.ts";
 * const masker = new Masker();
 * masker.add('p"ss');
 * assert.equal(masker.mask('token p"ss'), "token ***");
 * assert.equal(masker.mask(JSON.stringify({ token: 'p"ss' })), '{"token":"***"}');
 * ```
 */
export class Masker {
  #patterns: string[] = [];
  #regex: RegExp | undefined;

  /** Adds a secret; empty strings are ignored. */
  add(secret: string): void {
    if (typeof secret !== "string" || secret === "") return;
    const forms = new Set<string>([
      secret,
      JSON.stringify(secret).slice(1, -1),
    ]);
    if (/\r?\n/.test(secret)) {
      for (const line of secret.split(/\r?\n/)) {
        if (line.trim().length >= 3) forms.add(line);
      }
    }
    let changed = false;
    for (const form of forms) {
      if (form !== "" && !this.#patterns.includes(form)) {
        this.#patterns.push(form);
        changed = true;
      }
    }
    if (changed) {
      // Longest first, so a secret that contains another is masked whole.
      this.#patterns.sort((a, b) => b.length - a.length);
      this.#regex = new RegExp(
        this.#patterns.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join("|"),
        "g",
      );
    }
  }

  /** Whether any secret is known. */
  get active(): boolean {
    return this.#regex !== undefined;
  }

  /** The text with every secret replaced by `***`. */
  mask(text: string): string {
    return this.#regex === undefined ? text : text.replace(this.#regex, "***");
  }
}

/** Options of {@linkcode Reporter}. */
export interface ReporterOptions {
  /** Writes one event line (already masked, ending in a newline); absent: no events file. */
  writeEvent?: (line: string) => void;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Turns a run's callbacks (`onEvent`, `onOutput`, `onSecret`, `warn`) into masked progress,
 * output and events.
 *
 * @example Plain progress lines and masked outputs
 * ```ts
 * import assert from "node:assert/strict";
 * import { Reporter } from "./report.ts";
 * let out = "", err = "";
 * const reporter = new Reporter({ stdout: (t) => out += t, stderr: (t) => err += t, live: false, color: false });
 * const base = { index: 0, reference: "./s.ts#login", name: "login", inputs: {}, time: 0 };
 * reporter.event({ ...base, type: "step.started" });
 * reporter.secret("hunter2");
 * reporter.event({ ...base, type: "step.completed", durationMs: 12, outputKeys: ["token"] });
 * reporter.outputs({ token: "hunter2" });
 * reporter.close();
 * assert.equal(err, " > Running login step...\n ✓ login completed in 12 ms\n");
 * assert.equal(out, '{\n  "token": "***"\n}\n');
 * ```
 */
export class Reporter {
  readonly masker: Masker = new Masker();
  readonly #sink: ReportSink;
  readonly #writeEvent: ((line: string) => void) | undefined;
  #liveLine: string | undefined;
  #liveStart = 0;
  #liveName = "";
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #partial: Record<OutputChunk["stream"], string> = { stdout: "", stderr: "" };

  /**
   * @param sink Where to write.
   * @param options The events writer.
   */
  constructor(sink: ReportSink, options: ReporterOptions = {}) {
    this.#sink = sink;
    this.#writeEvent = options.writeEvent;
  }

  /** A secret to mask from now on (`onSecret`). */
  secret(value: string): void {
    this.masker.add(value);
  }

  /** A step event (`onEvent`): a progress line, and a JSON line in the events file. */
  event(event: StepEvent): void {
    if (this.#writeEvent !== undefined) {
      this.#writeEvent(
        this.masker.mask(JSON.stringify(event, jsonReplacer)) + "\n",
      );
    }
    switch (event.type) {
      case "step.started":
        this.#flushOutput();
        this.#startLive(event.name);
        break;
      case "step.completed":
        this.#flushOutput();
        this.#endLive(
          `${this.#paint("32", "✓")} ${event.name} completed in ${
            formatDuration(event.durationMs)
          }`,
        );
        break;
      case "step.failed":
        this.#flushOutput();
        this.#endLive(
          `${this.#paint("31", "✗")} ${event.name} failed after ${
            formatDuration(event.durationMs)
          }`,
        );
        break;
    }
  }

  /** Live output of a step (`onOutput`), written to stderr line by line, masked. */
  output(chunk: OutputChunk): void {
    // Whole lines only, so a secret split across two chunks is still seen whole.
    const text = this.#partial[chunk.stream] + chunk.text;
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.#partial[chunk.stream] = text;
      if (text.length > 64 * 1024) this.#flushOutput();
      return;
    }
    this.#partial[chunk.stream] = text.slice(end + 1);
    this.#writeAboveLive(this.masker.mask(text.slice(0, end + 1)));
  }

  /** A warning line on stderr. */
  warn(message: string): void {
    this.#writeAboveLive(
      `${this.#paint("33", "warning:")} ${this.masker.mask(message)}\n`,
    );
  }

  /** A plain line on stderr. */
  info(line: string): void {
    this.#writeAboveLive(this.masker.mask(line) + "\n");
  }

  /** The final outputs as JSON on stdout. */
  outputs(outputs: unknown): void {
    this.#flushOutput();
    this.#sink.stdout(
      this.masker.mask(JSON.stringify(outputs, jsonReplacer, 2) ?? "null") +
        "\n",
    );
  }

  /** An error report on stderr (lines already composed by the caller), masked. */
  error(lines: readonly string[]): void {
    this.#flushOutput();
    this.#clearLive();
    for (const line of lines) {
      this.#sink.stderr(this.masker.mask(line) + "\n");
    }
  }

  /** Stops the live line's timer and writes pending output. */
  close(): void {
    this.#flushOutput();
    this.#clearLive();
  }

  #startLive(name: string): void {
    const line = ` > Running ${name} step...`;
    if (!this.#sink.live) {
      this.#sink.stderr(line + "\n");
      return;
    }
    this.#liveName = name;
    this.#liveStart = performance.now();
    this.#liveLine = line;
    this.#drawLive();
    this.#timer ??= setInterval(() => this.#drawLive(), 100);
  }

  #drawLive(): void {
    if (this.#liveLine === undefined) return;
    const elapsed = formatDuration(performance.now() - this.#liveStart);
    const frame = SPINNER[this.#frame++ % SPINNER.length];
    this.#sink.stderr(
      `\r\x1b[2K ${
        this.#paint("36", frame ?? "-")
      } Running ${this.#liveName} step... ${this.#paint("2", elapsed)}`,
    );
  }

  #endLive(line: string): void {
    this.#clearLive();
    this.#sink.stderr(` ${line}\n`);
  }

  #clearLive(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (this.#liveLine !== undefined) {
      this.#sink.stderr("\r\x1b[2K");
      this.#liveLine = undefined;
    }
  }

  #writeAboveLive(text: string): void {
    if (this.#liveLine === undefined) {
      this.#sink.stderr(text);
      return;
    }
    this.#sink.stderr("\r\x1b[2K" + text);
    this.#drawLive();
  }

  #flushOutput(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#partial[stream];
      if (rest !== "") {
        this.#partial[stream] = "";
        this.#writeAboveLive(this.masker.mask(rest) + "\n");
      }
    }
  }

  #paint(code: string, text: string): string {
    return this.#sink.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

/**
 * A duration for people: `12 ms`, `1.5 s`, `2 min 5 s`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./report.ts";
 * assert.equal(formatDuration(1500), "1.5 s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A `JSON.stringify` replacer for values JSON cannot hold: bigints as strings, errors by
 * name and message, maps as objects, sets as arrays.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonReplacer } from "./report.ts";
 * assert.equal(JSON.stringify({ n: 2n, s: new Set([1]) }, jsonReplacer), '{"n":"2","s":[1]}');
 * ```
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}
