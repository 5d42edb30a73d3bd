/**
 * Inside a step's Worker: calls the step module's export with the inputs and ALWAYS answers with
 * a {@linkcode StepOutcome} envelope, never a throw across the boundary.
 *
 * The sandbox host starts each Worker from a generated entry that imports this module and the
 * step module statically, so the step module is loaded under the host's permissions and the
 * Worker itself needs no `read` of its own source:
 *
 * ```text
 * import { serveStep } from "file:///.../worker_entry.ts";
 * import * as stepModule from "file:///.../step.ts";
 * serveStep(stepModule, { specifier: "file:///.../step.ts" });
 * ```
 *
 * @module
 */

import { findUncloneable } from "../core/cloneable.ts";
import type { StepContext } from "../types.ts";
// Only import-free modules here: every module a Worker loads costs every step call time. The
// stepbox errors this file raises are sent as data (name, code, props) and rebuilt as their
// classes by the host's parent, so src/errors.ts is not loaded in the Worker.
import type * as Pieces from "./_pieces.ts";
import type { RevokeDescriptor } from "./policy.ts";
import {
  decodePayload,
  encodePayload,
  type Payload,
  type SerializedError,
  serializeError,
  type Split,
  type StepOutcome,
} from "./_wire.ts";

/** What the host asks a Worker to do. */
export interface RunRequest {
  /** The reference as written, for messages. */
  reference: string;
  /** The export to call. */
  exportName: string;
  /** Built-ins also receive a {@linkcode StepContext}. */
  builtin: boolean;
  /** The inputs. */
  inputs: Payload;
  /** For built-ins: the working directory and command environment of the run. */
  context?: { workingDirectory: string; env: Record<string, string> };
}

/**
 * The plain messages between a host and a Worker: the Worker announces it is ready or about to
 * close itself; a call travels as one `run` envelope and is answered by one `done` envelope,
 * with a built-in's live output as `write` messages before it.
 *
 * Why not comlink: each comlink call makes a UUID, a per-call listener and a wire-value wrapping
 * on both sides, which cost a warm (`pool`) step several times the bare message round trip, and
 * loading it cost every Worker's start more time and memory.
 */
export type WorkerSignal =
  | { stepbox: "ready" }
  | { stepbox: "exit"; how: string }
  | { stepbox: "run"; id: number; request: RunRequest }
  | { stepbox: "done"; id: number; outcome: StepOutcome }
  | { stepbox: "write"; id: number; stream: "stdout" | "stderr"; text: string }
  | CommandSignal
  | LaneSignal
  | PieceSignal;

/**
 * Sent to the host (never on a lane): a built-in started a command, the leader of its own process
 * group, or it has exited. The host ends the groups still running when it ends the Worker.
 */
export type CommandSignal = {
  stepbox: "command";
  pid: number;
  running: boolean;
};

/**
 * A piece of a payload sent in pieces on a lane (see `_pieces.ts`): after the `run` or `done`
 * envelope of call `id`, its list's items in order, the last one marked. A Worker that cannot
 * finish its output's pieces sends `error` instead.
 */
export type PieceSignal =
  | { stepbox: "piece"; id: number; text: string; last: boolean }
  | { stepbox: "piece"; id: number; error: SerializedError };

/**
 * The messages that open a lane (`pool` isolation, see `lane_entry.ts`): the host tells a
 * loaded Worker where to connect, with the token that proves the connection is this Worker's and
 * the permissions to drop once connected; the Worker's first frame on the lane says `hello`.
 */
export type LaneSignal =
  | {
    stepbox: "lane";
    socket: string;
    token: string;
    revoke: RevokeDescriptor[];
  }
  | { stepbox: "hello"; token: string };

/** Options of {@linkcode serveStep}. */
export interface ServeStepOptions {
  /** The step module's specifier, for messages. */
  specifier: string;
  /** Where to receive calls and post answers and signals. @default globalThis */
  endpoint?: SignalEndpoint;
  /** Where {@linkcode CommandSignal}s go: the host, when `endpoint` is a lane. @default endpoint */
  host?: { postMessage(message: unknown): void };
  /** Send what the step prints while a call runs to that call (see {@linkcode routeOutput}).
   * @default true when `endpoint` is the Worker's own scope */
  routeOutput?: boolean;
  /**
   * Given on a lane: large JSON values come and go in pieces (`_pieces.ts`, which other Workers
   * never load), each sent once the one before is `written`, while the lane `isOpen`.
   */
  pieces?: {
    module: typeof Pieces;
    written(): Promise<void>;
    isOpen(): boolean;
  };
}

/** What {@linkcode serveStep} talks through: a Worker's global scope, or a `MessagePort`. */
export interface SignalEndpoint {
  postMessage(message: unknown): void;
  addEventListener(
    type: "message",
    listener: (event: MessageEvent) => void,
  ): void;
  /** A `MessagePort` delivers nothing until started. */
  start?(): void;
}

/**
 * Serves one loaded step module: answers each `run` signal with a `done` signal and posts
 * `{ stepbox: "ready" }` once listening. On a lane (`options.pieces`), inputs sent in pieces are
 * gathered before the call starts, and a large JSON output follows its `done` in pieces. A step
 * that closes its Worker (`close()`, `Deno.exit()`) posts `{ stepbox: "exit" }` first, so the
 * host fails the pending call at once instead of waiting.
 *
 * @param stepModule The step module's namespace object.
 * @param options The specifier, and the endpoint for tests.
 *
 * @example Serving a module over a MessageChannel
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveStep, type WorkerSignal } from "./worker_entry.ts";
 * const { port1, port2 } = new MessageChannel();
 * serveStep({ greet: (inputs: { name: string }) => ({ text: `hi ${inputs.name}` }) }, {
 *   specifier: "file:///greet.ts",
 *   endpoint: port2,
 * });
 * const answered = new Promise<WorkerSignal>((resolve) => {
 *   port1.onmessage = (event) => event.data.stepbox === "done" && resolve(event.data);
 * });
 * port1.postMessage({
 *   stepbox: "run", id: 1,
 *   request: {
 *     reference: "greet.ts#greet", exportName: "greet", builtin: false,
 *     inputs: { kind: "clone", value: { name: "ada" } },
 *   },
 * } satisfies WorkerSignal);
 * assert.deepEqual(await answered, {
 *   stepbox: "done", id: 1,
 *   outcome: { ok: true, value: { kind: "clone", value: { text: "hi ada" } } },
 * });
 * port1.close();
 * port2.close();
 * ```
 */
export function serveStep(
  stepModule: Record<string, unknown>,
  options: ServeStepOptions,
): void {
  const endpoint = options.endpoint ??
    (globalThis as unknown as SignalEndpoint);
  if (options.endpoint === undefined) guardSelfExit(endpoint);
  const post = (signal: WorkerSignal) => endpoint.postMessage(signal);
  // One call at a time runs in a Worker: what it prints while running is that call's.
  let running: number | undefined;
  if (options.routeOutput ?? options.endpoint === undefined) {
    routeOutput(() => running, post);
  }
  const answer = (id: number, outcome: StepOutcome | Split) => {
    if (running === id) running = undefined;
    try {
      if (!("kind" in outcome)) {
        post({ stepbox: "done", id, outcome });
        return;
      }
      const { module, written, isOpen } = options.pieces!;
      post({
        stepbox: "done",
        id,
        outcome: { ok: true, value: module.headOf(outcome) },
      });
      void module.sendPieces(
        outcome,
        (piece) => post({ stepbox: "piece", id, ...piece }),
        written,
        isOpen,
      ).catch((error) =>
        post({ stepbox: "piece", id, error: serializeError(error) })
      );
    } catch (error) {
      // An output that passed the checks yet cannot be cloned (e.g. a WeakMap inside).
      post({
        stepbox: "done",
        id,
        outcome: { ok: false, error: serializeError(error) },
      });
    }
  };
  const host = options.host ?? endpoint;
  const builtin = (id: number): BuiltinChannel => ({
    write: (stream, text) => post({ stepbox: "write", id, stream, text }),
    commandStarted(pid) {
      const running = (running: boolean) =>
        host.postMessage(
          { stepbox: "command", pid, running } satisfies WorkerSignal,
        );
      running(true);
      return () => running(false);
    },
  });
  const start = (id: number, request: RunRequest) => {
    running = id;
    void runStep(
      stepModule,
      options.specifier,
      request,
      options.pieces?.module.splitOf,
      request.builtin ? builtin(id) : undefined,
    ).then((outcome) => answer(id, outcome));
  };
  // Inputs sent in pieces, by call: the call starts once the last piece is in.
  const assemblies = new Map<
    number,
    { request: RunRequest; assembly: Pieces.PieceAssembly }
  >();
  endpoint.addEventListener("message", (event) => {
    const message = event.data as WorkerSignal | undefined;
    if (message?.stepbox === "piece") {
      const pending = assemblies.get(message.id);
      if (pending === undefined) return;
      try {
        if ("error" in message) {
          assemblies.delete(message.id);
          answer(message.id, { ok: false, error: message.error });
          return;
        }
        pending.assembly.add(message.text);
        if (!message.last) return;
        assemblies.delete(message.id);
        const value = pending.assembly.value;
        start(message.id, {
          ...pending.request,
          inputs: { kind: "clone", value },
        });
      } catch (error) {
        assemblies.delete(message.id);
        answer(message.id, { ok: false, error: serializeError(error) });
      }
      return;
    }
    if (message?.stepbox !== "run") return;
    const { id, request } = message;
    if (request.inputs.kind !== "pieces") return start(id, request);
    try {
      const { PieceAssembly } = options.pieces!.module;
      assemblies.set(id, {
        request,
        assembly: new PieceAssembly(request.inputs),
      });
    } catch (error) {
      answer(id, { ok: false, error: serializeError(error) });
    }
  });
  endpoint.start?.();
  endpoint.postMessage({ stepbox: "ready" } satisfies WorkerSignal);
}

/**
 * Makes a Worker that closes itself (`close()`, `Deno.exit()`) say so first on `endpoint`: Deno
 * 2.9.6 gives the host no event at all for it, so a pending call would wait forever.
 *
 * @param endpoint Where to post `{ stepbox: "exit" }`: the Worker's global scope.
 *
 * @example
 * ```ts ignore
 * guardSelfExit(globalThis as unknown as SignalEndpoint);
 * ```
 */
export function guardSelfExit(
  endpoint: { postMessage(message: unknown): void },
): void {
  const scope = globalThis as unknown as { close?: () => void };
  const close = scope.close;
  if (typeof close === "function") {
    scope.close = () => {
      endpoint.postMessage({ stepbox: "exit", how: "close()" });
      close.call(globalThis);
    };
  }
  const deno = (globalThis as { Deno?: { exit(code?: number): never } }).Deno;
  if (deno !== undefined) {
    const exit = deno.exit;
    deno.exit = (code?: number): never => {
      endpoint.postMessage({
        stepbox: "exit",
        how: `Deno.exit(${code ?? ""})`,
      });
      return exit(code);
    };
  }
}

// Deno's own console class and print function (Deno 2.x), so that a routed console formats,
// indents groups and counts exactly as the global one does.
interface DenoInternals {
  Console?: new (print: (text: string, level: number) => void) => object;
  core?: { print?(text: string, isError: boolean): void };
}

/**
 * Sends what a step prints while a call runs (every `console` method, and writes to
 * `Deno.stdout` and `Deno.stderr`, their `writable` streams included) to that call, as `write`
 * signals ahead of its answer. Otherwise it would go to the host's stdout, which every call of
 * the host shares: a parent could not tell whose it was, and it could arrive after the answer.
 * Printed while no call runs (as the module loads, from a timer left behind), it goes to the
 * host's stdout. Where Deno does not expose its console class, `console` output is not routed.
 *
 * @param running The call running now, if any.
 * @param post Posts a signal to the parent's side.
 *
 * @example
 * ```ts ignore
 * routeOutput(() => callId, (signal) => self.postMessage(signal));
 * ```
 */
export function routeOutput(
  running: () => number | undefined,
  post: (signal: WorkerSignal) => void,
): void {
  const send = (stream: "stdout" | "stderr", text: () => string) => {
    const id = running();
    if (id === undefined) return false;
    post({ stepbox: "write", id, stream, text: text() });
    return true;
  };
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno === undefined) return;
  const internals = (deno as unknown as Record<symbol, DenoInternals>)[
    (deno as unknown as { internal: symbol }).internal
  ];
  const print = internals?.core?.print;
  if (internals?.Console !== undefined && print !== undefined) {
    // As Deno's global console prints: levels above 1 (warn, error, trace, assert) to stderr.
    const routed = new internals.Console((text, level) => {
      const stream = level > 1 ? "stderr" : "stdout";
      if (!send(stream, () => text)) print(text, level > 1);
    }) as Record<string, unknown>;
    const console = globalThis.console as unknown as Record<string, unknown>;
    for (const [name, method] of Object.entries(routed)) {
      if (typeof method === "function") console[name] = method;
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const file = deno[stream];
    const decoder = new TextDecoder();
    const { write, writeSync } = file;
    const routed = (bytes: Uint8Array) =>
      send(stream, () => decoder.decode(bytes, { stream: true }));
    file.write = (bytes: Uint8Array) =>
      routed(bytes) ? Promise.resolve(bytes.length) : write.call(file, bytes);
    file.writeSync = (bytes: Uint8Array) =>
      routed(bytes) ? bytes.length : writeSync.call(file, bytes);
    let writable: WritableStream<Uint8Array> | undefined;
    Object.defineProperty(file, "writable", {
      configurable: true,
      get: () =>
        writable ??= new WritableStream<Uint8Array>({
          async write(bytes) {
            for (let done = 0; done < bytes.length;) {
              done += await file.write(bytes.subarray(done));
            }
          },
        }),
    });
  }
}

/** What a built-in's context sends through its Worker: live output and its commands. */
type BuiltinChannel = Required<Pick<StepContext, "write" | "commandStarted">>;

async function runStep(
  stepModule: Record<string, unknown>,
  specifier: string,
  request: RunRequest,
  split: typeof Pieces.splitOf | undefined,
  channel?: BuiltinChannel,
): Promise<StepOutcome | Split> {
  const fn = stepModule[request.exportName];
  if (typeof fn !== "function") {
    return {
      ok: false,
      error: missingExport(stepModule, specifier, request, fn),
    };
  }
  let value: unknown;
  try {
    const inputs = decodePayload(request.inputs);
    if (request.builtin) {
      // A built-in's output is posted on the call's own endpoint, ahead of its answer.
      const context: StepContext = {
        workingDirectory: request.context?.workingDirectory ?? "",
        env: request.context?.env ?? {},
        write: (stream, text) => channel?.write(stream, text),
      };
      if (channel !== undefined) {
        context.commandStarted = channel.commandStarted;
      }
      value = await fn(inputs, context);
    } else {
      value = await fn(inputs);
    }
  } catch (error) {
    return {
      ok: false,
      error: toPermissionError(error, request.reference) ??
        serializeError(error),
    };
  }
  return encodeOutput(value, request, split);
}

// The output as a payload: JSON when large and JSON-safe (checked before any is written: a
// binary output would grow several times over as JSON text), else the value itself if it can
// leave the worker at all.
function encodeOutput(
  value: unknown,
  request: RunRequest,
  split: typeof Pieces.splitOf | undefined,
): StepOutcome | Split {
  try {
    const payload = split === undefined
      ? encodePayload(value)
      : encodePayload(value, { split });
    if (payload.kind === "split") return payload;
    const keyPath = payload.kind === "json"
      ? undefined
      : findUncloneable(value);
    if (keyPath === undefined) return { ok: true, value: payload };
    const where = keyPath === "" ? "the output itself" : `"${keyPath}"`;
    return {
      ok: false,
      error: stepboxError(
        "OutputNotCloneableError",
        `Cannot return the output of "${request.reference}": ${where} is a ${
          describeKind(keyPath, value)
        }, which cannot leave the worker; return plain data (objects, arrays, strings, numbers, booleans, null, Dates, Maps, typed arrays)`,
        { code: "OUTPUT_NOT_CLONEABLE", keyPath },
      ),
    };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

function describeKind(keyPath: string, root: unknown): string {
  let value: unknown = root;
  if (keyPath !== "") {
    try {
      // Only for the message: follow simple `a.b[0]` paths; fall back to a generic word.
      for (const part of keyPath.match(/[^.[\]"]+/g) ?? []) {
        value = (value as Record<string, unknown>)[part];
      }
    } catch {
      return "value";
    }
  }
  if (typeof value === "function") return "function";
  if (typeof value === "symbol") return "symbol";
  if (typeof value === "object" && value !== null) {
    return value.constructor?.name ?? "object";
  }
  return "value";
}

// A stepbox error as data; the receiving side rebuilds its class by name (protocol.ts).
function stepboxError(
  name: string,
  message: string,
  props: Record<string, unknown>,
  cause?: unknown,
): SerializedError {
  const data: SerializedError = {
    name,
    message,
    stack: `${name}: ${message}\n${
      (new Error().stack ?? "").split("\n").slice(2).join("\n")
    }`,
    props,
  };
  if (cause !== undefined) data.cause = serializeError(cause);
  return data;
}

function missingExport(
  stepModule: Record<string, unknown>,
  specifier: string,
  request: RunRequest,
  found: unknown,
): SerializedError {
  const exports = Object.keys(stepModule).sort().map((name) => `"${name}"`)
    .join(", ");
  const reason = found === undefined
    ? `the module "${specifier}" has no export "${request.exportName}" (exports: ${
      exports || "none"
    })`
    : `the export "${request.exportName}" of "${specifier}" is a ${
      found === null ? "null" : typeof found
    }, not a function (exports: ${exports})`;
  return stepboxError(
    "ReferenceResolutionError",
    `Cannot import "${request.reference}": ${reason}; fix the reference or export a function with that name`,
    { code: "REFERENCE_RESOLUTION", reference: request.reference, specifier },
  );
}

const DENIED =
  /Requires (read|write|net|env|run|sys|ffi|import) access to "?([^",]*)"?/;

// Deno reports a missing permission as NotCapable (or a TypeError for fetch and import) with
// the text "Requires <kind> access to <what>". Turn it into a StepPermissionError that names the
// `permissions:` entry which would grant it; look through the cause chain too.
function toPermissionError(
  error: unknown,
  reference: string,
): SerializedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const match = DENIED.exec(current.message);
    if (match !== null) {
      const kind = match[1]!;
      const what = match[2] ?? "";
      const entry = what === "" ? `${kind}: true` : `${kind}: ["${what}"]`;
      return stepboxError(
        "StepPermissionError",
        `Cannot run "${reference}": it needs ${kind} access${
          what === "" ? "" : ` to "${what}"`
        }, which the step was not granted; add "permissions: { ${entry} }" to the step (within the run's ceiling)`,
        { code: "STEP_PERMISSION", permission: kind },
        error,
      );
    }
    current = current.cause;
  }
  return undefined;
}
