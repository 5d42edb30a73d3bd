/**
 * The parent side of the sandbox: starts sandbox host processes (`host_entry.ts`), pools them by
 * (import map, policy, environment, import grant), talks to them over a private Unix socket
 * (comlink for control: prepare, cancel, lanes, stats, live output; one plain frame out and one
 * back per step call, see protocol.ts `CALL_CHANNEL`), recycles them after a bounded number of
 * workers, and replaces a host that dies, failing its pending calls at once. In `pool`
 * isolation it keeps, per host, a pool of lanes: sockets straight to warm Workers
 * (`_lane.ts`).
 *
 * @module
 */

// Types only: comlink itself is loaded while the first host starts (see startHost), from its ES
// module build as a plain file, off the path of a CLI run before its sandbox can start.
import type * as Comlink from "npm:comlink@^4.4.2";
import { isWithinPosixPath } from "../_util/posix_path.ts";
import { sourceUrl } from "../_util/source_url.ts";
import { stableJson } from "../_util/stable_json.ts";
import { PolicyError, SandboxError, StepTimeoutError } from "../errors.ts";
import type { OutputChunk, Permissions } from "../types.ts";
import type {
  CallOptions,
  Executor,
  ExecutorInfo,
  StepTarget,
} from "./executor.ts";
import type {
  HostApi,
  HostConfig,
  HostStats,
  ParentApi,
  WorkerTarget,
} from "./host_main.ts";
import {
  hostPermissionFlags,
  importHosts,
  laneGrant,
  toWorkerPermissions,
} from "./policy.ts";
import { CommandGroups } from "./_command_groups.ts";
import { headOf, type Split, splitOf } from "./_pieces.ts";
import { createWorkerPool, type WorkerPool } from "./pool.ts";
import {
  CALL_CHANNEL,
  type CallAnswer,
  decodePayload,
  deserializeError,
  encodePayload,
  PRELOAD_CHANNEL,
  runRequestOf,
  type StepCall,
  type StepOutcome,
  stepTimeoutError,
} from "./protocol.ts";
import { createStdioEndpoint, type StdioEndpoint } from "./stdio_endpoint.ts";
import type { WorkerSignal } from "./worker_entry.ts";
import {
  type HostCommand,
  type HostLauncher,
  importMapArgument,
  laneSocket,
  SOCKET_TOKEN,
  type SpawnedHost,
  spawnHost,
} from "./_host_process.ts";
import { Lane } from "./_lane.ts";
import { detectRuntime } from "../_util/runtime.ts";
import {
  type HostChild,
  type HostConnection,
  type HostSystem,
  loadHostSystem,
} from "./_system.ts";

/** Options of {@linkcode createSandboxExecutor}. */
export interface SandboxExecutorOptions {
  /** `step`: a fresh worker per call; `pool`: warm workers reused per module + permissions. */
  isolation: "step" | "pool";
  /** The Deno binary that runs sandbox hosts. @default on Deno, `Deno.execPath()`; on Node, the
   * `deno` npm package's binary, else `deno` on `PATH` */
  denoPath?: string;
  /** A host is replaced after it started this many workers (bounds leaks). @default 200 */
  maxWorkersPerHost?: number;
  /** Most warm workers per host in `pool` isolation. @default 8 */
  poolSize?: number;
  /** A warm worker unused for this long is ended, in ms. @default 30000 */
  poolIdleMs?: number;
  /** A host must connect back within this time, in ms. @default 30000 */
  startTimeoutMs?: number;
  /** Environment variables (beyond the policy's `env`) that a host needs to run Deno itself.
   * Only these names are copied from the parent's environment.
   * @default ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "LANG"] */
  essentialEnv?: readonly string[];
  /** Host processes started ahead of time (the CLI starts one while it loads, from the command
   * its last run of the same file used): each host start offers its exact command and takes
   * the process started for it, if any. */
  launcher?: HostLauncher;
}

/** Worker and host counts, for tests and monitoring. */
export interface SandboxStats {
  hosts: Array<
    HostStats & {
      pid: number;
      pendingCalls: number;
      /** Commands of built-in steps the host has told of as running: ended if it dies. */
      runningCommands: number;
    }
  >;
}

/** An {@linkcode Executor} backed by sandbox host processes. */
export interface SandboxExecutor extends Executor {
  /** Counts of hosts and their workers. */
  stats(): Promise<SandboxStats>;
}

const DEFAULT_ESSENTIAL_ENV = Object.freeze([
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "TMPDIR",
  "LANG",
]);
const DEFAULT_MEMORY_MB = 512;
/**
 * A timeout without a timer: Deno 2.9.6 loads its Node-compatible timers on the first
 * `setTimeout` (about 4 ms of this thread), which a CLI would pay before its first step for a
 * host start-up timeout that almost never fires. `Atomics.waitAsync` on a private cell times out
 * by itself, `cancel()` ends the wait at once, and a pending wait does not keep the process alive.
 */
function deadline(ms: number): { expired: Promise<unknown>; cancel(): void } {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const wait = Atomics.waitAsync(cell, 0, 0, ms);
  return {
    expired: wait.async
      ? wait.value.then((result) =>
        result === "timed-out" ? undefined : new Promise(() => {})
      )
      : Promise.resolve(),
    cancel: () => void Atomics.notify(cell, 0),
  };
}

// Extra time the parent allows beyond a step's timeout before it kills an unresponsive host.
const BACKSTOP_MS = 2000;
// How long a closing host may take to end its Workers and their commands before it is killed.
const STOP_GRACE_MS = 2000;
interface Pending {
  target: StepTarget;
  onOutput: ((chunk: OutputChunk) => void) | undefined;
  fail(reason: unknown): void;
  answer(outcome: StepOutcome): void;
}

/** What a host needs beyond its key: paths to read and hosts to import from. */
interface HostNeeds {
  readRoots: Set<string>;
  importHosts: Set<string>;
}

/** The lanes of a `pool` host: socket paths its flags grant, and how many to keep warm. */
interface LaneSettings {
  /** Twice the pool size: a lane's path is free again only once its Worker has ended. */
  sockets: string[];
  poolSize: number;
  idleMs: number;
  /** The host's working directory, against which relative permission paths resolve. */
  cwd: string | undefined;
}

/** Why a host's calls fail once it died, for the step of a given target. */
type DeathReason = (
  target: { reference: string; specifier: string },
) => SandboxError;

class Host {
  readonly key: string;
  readonly needs: HostNeeds;
  readonly memoryMb: number;
  readonly pending = new Map<number, Pending>();
  readonly system: HostSystem;
  /** The Deno binary it runs on. */
  readonly denoPath: string;
  readonly #child: HostChild;
  readonly #endpoint: StdioEndpoint;
  readonly #dir: string;
  readonly api: Comlink.Remote<HostApi>;
  readonly #calls: Comlink.Endpoint;
  readonly #releaseProxy: typeof Comlink.releaseProxy;
  readonly died: Promise<DeathReason>;
  readonly #lanes: WorkerPool<Lane> | undefined;
  readonly #laneTargets = new Map<string, WorkerTarget>();
  readonly #lanesBySocket = new Map<string, Lane>();
  #freeSockets: string[] = [];
  readonly #laneGrantCwd: string | undefined;
  #dead = false;
  #internalError: unknown;
  // Set once a built-in step ran here: its commands may still be running when the host ends.
  #ranBuiltin = false;
  // The commands the host's built-ins are running, as it reports them.
  readonly #commands: CommandGroups;
  #stderrTail = "";
  #pumps: Promise<void>[] = [];
  workersStarted = 0;
  retiring = false;
  readonly #preloaded: Set<string>;

  /** Whether the host was started with a worker for `specifier` (answered once). */
  takePreloaded(specifier: string): boolean {
    return this.#preloaded.delete(specifier);
  }

  constructor(
    init: {
      key: string;
      needs: HostNeeds;
      memoryMb: number;
      system: HostSystem;
      denoPath: string;
      child: HostChild;
      endpoint: StdioEndpoint;
      dir: string;
      preloaded: readonly string[];
      comlink: typeof Comlink;
      lanes?: LaneSettings | undefined;
    },
  ) {
    const comlink = init.comlink;
    this.#releaseProxy = comlink.releaseProxy;
    this.#preloaded = new Set(init.preloaded);
    this.key = init.key;
    this.needs = init.needs;
    this.memoryMb = init.memoryMb;
    this.system = init.system;
    this.denoPath = init.denoPath;
    this.#commands = new CommandGroups(init.system.killGroup);
    this.#child = init.child;
    this.#endpoint = init.endpoint;
    this.#dir = init.dir;
    this.api = comlink.wrap<HostApi>(this.#endpoint.channel(0));
    // The lean call path: one frame out, one frame back (see CALL_CHANNEL).
    this.#calls = this.#endpoint.channel(CALL_CHANNEL);
    this.#calls.addEventListener("message", (event) => {
      const answer = (event as MessageEvent).data as CallAnswer;
      this.pending.get(answer.id)?.answer(answer.outcome);
    });
    const parentApi: ParentApi = {
      output: (id, stream, text) => {
        this.pending.get(id)?.onOutput?.({ stream, text });
      },
      laneEnded: (socket, error) => {
        this.#lanesBySocket.get(socket)?.report(deserializeError(error));
      },
      command: (pid, running) => {
        if (running) this.#commands.add(pid);
        else this.#commands.delete(pid);
      },
    };
    comlink.expose(parentApi, this.#endpoint.channel(1));
    this.#pumps.push(this.#pump(this.#child.stdout, "stdout"));
    this.#pumps.push(this.#pump(this.#child.stderr, "stderr"));
    this.died = Promise.race([this.#child.status, this.#endpoint.closed]).then(
      async () => {
        this.#dead = true;
        // A host that ended its commands told of each; what is left, it could not end.
        this.#commands.signal("SIGKILL");
        // Let the last of stderr (e.g. V8's out-of-memory report) arrive before explaining.
        await Promise.race([
          Promise.all(this.#pumps),
          new Promise((resolve) => setTimeout(resolve, 250)),
        ]);
        const reason = this.#deathReason();
        for (const pending of [...this.pending.values()]) {
          pending.fail(reason(pending.target));
        }
        this.pending.clear();
        return reason;
      },
    );
    this.#laneGrantCwd = init.lanes?.cwd;
    if (init.lanes !== undefined) {
      this.#freeSockets = [...init.lanes.sockets];
      this.#lanes = createWorkerPool<Lane>({
        maxWorkers: init.lanes.poolSize,
        idleMs: init.lanes.idleMs,
        spawn: (key) => this.#openLane(key),
        terminate: (lane) => this.#closeLane(lane),
      });
    }
  }

  #openLane(key: string): Lane | undefined {
    const socket = this.#freeSockets.pop();
    if (socket === undefined) return undefined;
    const target = this.#laneTargets.get(key)!;
    this.workersStarted++;
    const lane = new Lane(
      this,
      socket,
      target,
      laneGrant(target.permissions, socket, this.#laneGrantCwd),
      {
        signal: (signal) => this.#laneSignal(signal),
        ended: (lane, reason) => {
          this.#lanes?.discard(lane);
          void reason.then((why) => {
            if (lane.callId !== undefined) {
              this.pending.get(lane.callId)?.fail(why);
            }
            this.#closeLane(lane);
          });
        },
      },
    );
    this.#lanesBySocket.set(socket, lane);
    return lane;
  }

  #closeLane(lane: Lane): void {
    void lane.close().then(() => {
      if (this.#lanesBySocket.get(lane.socket) !== lane) return;
      this.#lanesBySocket.delete(lane.socket);
      this.#freeSockets.push(lane.socket);
    });
  }

  #laneSignal(signal: WorkerSignal): void {
    if (signal.stepbox === "done") {
      this.pending.get(signal.id)?.answer(signal.outcome);
    } else if (signal.stepbox === "write") {
      this.pending.get(signal.id)?.onOutput?.({
        stream: signal.stream,
        text: signal.text,
      });
    }
  }

  // Pool keys are module + permissions. A run's grant is one frozen object, call after call, so
  // its text is kept; an object that could still change is read again every call, since a stale
  // key would hand the call a Worker with other permissions.
  readonly #permissionsText = new WeakMap<object, string>();
  // The last key of a frozen grant, kept whole: the same string finds its lanes without being
  // built and hashed again.
  #lastLaneKey:
    | { specifier: string; permissions: object; key: string }
    | undefined;
  #laneKey(target: WorkerTarget): string {
    const { specifier, permissions } = target;
    const last = this.#lastLaneKey;
    if (
      last !== undefined && last.specifier === specifier &&
      last.permissions === permissions
    ) {
      return last.key;
    }
    let text = this.#permissionsText.get(permissions);
    const isFrozen = text !== undefined || isFrozenGrant(permissions);
    text ??= JSON.stringify(permissions);
    if (isFrozen) this.#permissionsText.set(permissions, text);
    const key = `${specifier}\n${text}`;
    // The first reference seen names the Worker in messages.
    if (!this.#laneTargets.has(key)) this.#laneTargets.set(key, target);
    if (isFrozen) this.#lastLaneKey = { specifier, permissions, key };
    return key;
  }

  /** Opens a lane for `target` ahead of its call, if the pool has room. */
  warmLane(target: WorkerTarget): void {
    this.#lanes?.warm(this.#laneKey(target));
  }

  /**
   * Runs one `pool` call on a warm lane of its module and permissions (opened if there is none);
   * when every lane is busy and the pool is full, in a fresh worker of the host instead. With
   * `split`, the inputs go to a lane in pieces (`call.inputs` is their head), or whole to a
   * fresh worker.
   */
  async runPooled(
    call: StepCall,
    target: StepTarget,
    options: CallOptions,
    split?: Split,
  ): Promise<unknown> {
    const lease = this.#lanes!.acquire(this.#laneKey({
      reference: call.reference,
      specifier: call.specifier,
      permissions: call.permissions,
    }));
    if (lease === undefined) {
      return await this.run(call, target, options, undefined, split);
    }
    try {
      const lane = lease.worker;
      if (!lane.isOpen) await lane.opened;
      const output = await this.run(call, target, options, lane, split);
      lease.release();
      return output;
    } catch (error) {
      // A failed call may have left the module in a bad state: its Worker is not reused.
      lease.release({ reset: true });
      throw error;
    }
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** How many commands of its built-ins the host has told of as running. */
  get runningCommands(): number {
    return this.#commands.size;
  }

  get isDead(): boolean {
    return this.#dead;
  }

  async #pump(
    stream: AsyncIterable<Uint8Array>,
    name: "stdout" | "stderr",
  ): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        let text = decoder.decode(chunk, { stream: true });
        if (name === "stderr") {
          this.#stderrTail = (this.#stderrTail + text).slice(-16_384);
          // Deno prints a worker's uncaught error even when the host handled it (a module
          // that does not load, despite preventDefault()); the host already turned it into the
          // call's error, so the copy on stderr is dropped.
          if (text.includes("Uncaught (in worker")) {
            text = text.replace(WORKER_UNCAUGHT, "");
            if (text === "") continue;
          }
        }
        // Step code can print (console.log, Deno.stdout) without any permission; which of the
        // host's pending calls printed cannot be told apart, so each of them receives it.
        for (const pending of this.pending.values()) {
          pending.onOutput?.({ stream: name, text });
        }
      }
    } catch {
      // The host was killed; its output ends here.
    }
  }

  /** Stops the host after an internal failure; its pending calls fail with `error`. */
  fail(error: unknown): void {
    this.#internalError ??= error;
    this.kill();
  }

  #deathReason(): DeathReason {
    const internal = this.#internalError;
    if (internal !== undefined) {
      return (target) =>
        new SandboxError(
          `The connection to the sandbox host running "${target.reference}" failed: ${
            internal instanceof Error ? internal.message : String(internal)
          }; the step was not completed`,
          { moduleUrl: target.specifier, cause: internal },
        );
    }
    const tail = this.#stderrTail;
    const outOfMemory = /out of memory|heap limit|allocation failed/i.test(
      tail,
    );
    return (target) =>
      outOfMemory
        ? new SandboxError(
          `Step "${target.reference}" ran out of memory: its sandbox host reached the heap cap of ${this.memoryMb} MiB and was stopped; raise the policy's "memoryMb" or make the step use less memory`,
          { moduleUrl: target.specifier },
        )
        : new SandboxError(
          `The sandbox host running "${target.reference}" exited unexpectedly${
            tail.trim() === "" ? "" : `: ${lastLines(tail)}`
          }; the step was not completed`,
          { moduleUrl: target.specifier },
        );
  }

  /**
   * Runs one call, through the host in a fresh worker or on `lane`; rejects at once if the host
   * or the lane's Worker dies meanwhile.
   */
  run(
    call: StepCall,
    target: StepTarget,
    options: CallOptions,
    lane?: Lane,
    split?: Split,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.pending.delete(call.id);
        if (lane !== undefined) lane.callId = undefined;
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const onAbort = () => {
        if (lane === undefined) void this.api.cancel(call.id);
        else void lane.close();
        finish(() => reject(options.signal?.reason));
      };
      if (target.builtin) this.#ranBuiltin = true;
      this.pending.set(call.id, {
        target,
        onOutput: options.onOutput,
        fail: (reason) => finish(() => reject(reason)),
        answer: (outcome) =>
          finish(() => {
            try {
              if (outcome.ok) resolve(decodePayload(outcome.value));
              else reject(deserializeError(outcome.error));
            } catch (error) {
              reject(error);
            }
          }),
      });
      if (options.signal !== undefined) {
        if (options.signal.aborted) return onAbort();
        options.signal.addEventListener("abort", onAbort, { once: true });
      }
      if (call.timeoutMs !== undefined && lane !== undefined) {
        const timeoutMs = call.timeoutMs;
        // Rejected once the host has ended the Worker, as the host itself does for a relayed call.
        timer = setTimeout(() => {
          void lane.close().then(() =>
            finish(() => reject(stepTimeoutError(target.reference, timeoutMs)))
          );
        }, timeoutMs);
      } else if (call.timeoutMs !== undefined) {
        const timeoutMs = call.timeoutMs;
        // The host enforces the timeout; this catches a host too stuck to answer at all.
        timer = setTimeout(() => {
          this.kill();
          finish(() =>
            reject(
              new StepTimeoutError(
                `Step "${target.reference}" timed out after ${
                  timeoutMs / 1000
                } s and its sandbox host did not respond, so it was stopped; raise its "timeout" or make it finish sooner`,
                { timeoutMs },
              ),
            )
          );
        }, timeoutMs + BACKSTOP_MS);
      }
      try {
        if (lane !== undefined) {
          lane.run(call.id, runRequestOf(call), split).catch((error) =>
            finish(() => reject(error))
          );
        } else if (split === undefined) {
          this.#calls.postMessage(call);
        } else {
          const text = JSON.stringify(split.value);
          this.#calls.postMessage({ ...call, inputs: { kind: "json", text } });
        }
      } catch (error) {
        // Inputs the frames cannot carry (a function, a cycle through a class instance, ...).
        finish(() => reject(error));
      }
    });
  }

  /** Stops the host process at once and frees everything it holds. */
  kill(): void {
    this.#child.kill("SIGKILL");
  }

  /**
   * Ends the host. One that has run a built-in step is asked to (SIGTERM), so that it first
   * ends the commands they started, which a killed host would leave running; any other is
   * killed at once, which costs nothing. Returns whether it was asked.
   */
  stop(): boolean {
    this.#child.kill(this.#ranBuiltin ? "SIGTERM" : "SIGKILL");
    return this.#ranBuiltin;
  }

  async close(): Promise<void> {
    this.#lanes?.close();
    // comlink's FinalizationRegistry holds each proxy's endpoint strongly, and the endpoint's
    // listeners lead back to this host: without an explicit release the host is never freed.
    try {
      this.api[this.#releaseProxy]();
    } catch {
      // Already released.
    }
    // A signal, not a message: closing costs no round trip, and a host that is still starting
    // ends as well. One asked to end that does not in time is killed.
    const stopping = this.stop()
      ? setTimeout(() => this.kill(), STOP_GRACE_MS)
      : undefined;
    await Promise.all([
      this.#endpoint.close(),
      this.#child.status.finally(() => clearTimeout(stopping)),
      Promise.all(this.#pumps),
    ]);
    await this.died;
    await this.system.remove(this.#dir);
  }
}

// "error: Uncaught (in worker "name") ..." and its indented stack lines, colours included.
const WORKER_UNCAUGHT =
  // deno-lint-ignore no-control-regex -- Deno colours its error output
  /(?:\u001b\[[0-9;]*m)*error(?:\u001b\[[0-9;]*m)*: Uncaught \(in worker "[^"\n]*"\)[^\n]*(?:\n|$)(?:(?:[ \t]+at |[ \t]*\d*[ \t]*\|)[^\n]*(?:\n|$))*/g;

async function textOf(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
    }
  } catch {
    // Cut short: what arrived is enough to explain.
  }
  return text + decoder.decode();
}

function lastLines(text: string): string {
  // deno-lint-ignore no-control-regex -- strip ANSI colours from Deno's error output
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "").trim();
  const lines = plain.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("at ")
  );
  return lines.slice(-3).join(" | ").slice(0, 500);
}

let comlinkModule: Promise<typeof Comlink> | undefined;

function loadComlink(url: string): Promise<typeof Comlink> {
  if (comlinkModule === undefined) {
    comlinkModule = import(url);
    // Awaited once the host connects; a failure is reported there.
    comlinkModule.catch(() => {});
  }
  return comlinkModule;
}

// Whether a grant or ceiling can no longer change: frozen, and its lists too (a run passes one
// such object to every call of a step).
function isFrozenGrant(permissions: Permissions): boolean {
  return Object.isFrozen(permissions) &&
    Object.values(permissions).every((value) =>
      typeof value !== "object" || Object.isFrozen(value)
    );
}

// A frozen grant or ceiling that passed its check once passes it on every later call.
const checkedGrants = new WeakSet<Permissions>();
function checkOnce(
  permissions: Permissions,
  check: (permissions: Permissions) => unknown,
): void {
  if (checkedGrants.has(permissions)) return;
  check(permissions);
  if (isFrozenGrant(permissions)) checkedGrants.add(permissions);
}

function isRemote(specifier: string): boolean {
  return /^(https?:|npm:)/i.test(specifier);
}

function dirOf(fileUrl: string): string | undefined {
  if (!fileUrl.startsWith("file:")) return undefined;
  try {
    return decodeURIComponent(new URL(".", fileUrl).pathname).replace(
      /\/$/,
      "",
    ) || "/";
  } catch {
    return undefined;
  }
}

function covers(roots: Iterable<string>, path: string): boolean {
  for (const root of roots) {
    if (isWithinPosixPath(root, path)) return true;
  }
  return false;
}

// A step's import grant widens its host's --allow-import (Deno ignores a Worker's own), so it
// is checked against the ceiling here too: every other kind is capped by the host's flags.
function checkImportGrant(target: StepTarget, options: CallOptions): void {
  const grant = options.permissions.import;
  const ceiling = options.policy.allow.import;
  if (grant === undefined || grant === false || ceiling === true) return;
  const allowed = Array.isArray(ceiling) ? ceiling : [];
  const beyond = grant === true
    ? ["all hosts"]
    : grant.filter((item) => !allowed.includes(item));
  if (beyond.length > 0) {
    throw new PolicyError(
      `Cannot run step "${target.reference}": it requests import ${
        JSON.stringify(beyond)
      } beyond the run's ceiling import ${
        JSON.stringify(allowed)
      }; raise the ceiling (CLI flag or the policy option) or drop the request`,
    );
  }
}

/**
 * Creates the executor that runs every step call in a permission-restricted Worker inside a
 * sandbox host process. `step` isolation gives each call a fresh Worker; `pool` reuses warm
 * Workers per module + permissions (module state may persist between calls).
 *
 * What it enforces: each Worker gets exactly the step's permissions (every kind set, deny unless
 * granted); the host runs under the run's ceiling, `--allow-import` of the mapped hosts and the
 * step's own import grant, a V8 heap cap (`policy.memoryMb`) and only the policy's environment
 * plus the essentials Deno needs to run. A host that dies fails its calls at once; a timeout
 * or an abort terminates the Worker.
 *
 * @param options The isolation and tuning.
 * @returns The executor; `close()` (or `await using`) stops every host.
 *
 * @example Run a step in a fresh worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSandboxExecutor } from "./host_client.ts";
 * const moduleUrl = "data:application/javascript,export function add(i) { return { sum: i.a + i.b }; }";
 * await using executor = createSandboxExecutor({ isolation: "step" });
 * const output = await executor.call(
 *   { reference: "add", specifier: moduleUrl, exportName: "add", builtin: false },
 *   { a: 1, b: 2 },
 *   { permissions: {}, importMap: {}, env: {}, policy: { allow: {}, env: {} } },
 * );
 * assert.deepEqual(output, { sum: 3 });
 * ```
 */
export function createSandboxExecutor(
  options: SandboxExecutorOptions,
): SandboxExecutor {
  const isolation = options.isolation;
  if (isolation !== "step" && isolation !== "pool") {
    throw new TypeError(
      `Cannot create a sandbox executor: "isolation" must be "step" or "pool", found ${
        JSON.stringify(isolation)
      }`,
    );
  }
  // Deno's at once; Node's once its module has loaded, before the first host starts.
  const loading = loadHostSystem(isolation);
  let system = loading instanceof Promise ? undefined : loading;
  const systemReady = loading instanceof Promise
    ? loading.then((loaded) => system = loaded)
    : undefined;
  systemReady?.catch(() => {});
  let denoPath = options.denoPath;
  const maxWorkersPerHost = options.maxWorkersPerHost ?? 200;
  const essentialEnv = options.essentialEnv ?? DEFAULT_ESSENTIAL_ENV;
  const info: ExecutorInfo = Object.freeze({
    isolation,
    runtime: detectRuntime(),
    enforcesPermissions: true,
  });
  const hosts = new Map<string, Host>();
  const starting = new Map<string, Promise<Host>>();
  const retired = new Set<Host>();
  const prefetched = new Map<string, Promise<void>>();
  const closing = new Set<Promise<void>>();
  let comlinkUrl: string | undefined;
  let nextId = 0;
  let closed = false;

  function hostEnv(
    system: HostSystem,
    policyEnv: Record<string, string>,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of essentialEnv) {
      // Unreadable (no env permission in the parent) is as unset: the host gets only the
      // policy's environment.
      const value = system.env(name);
      if (value !== undefined) env[name] = value;
    }
    return { ...env, ...policyEnv };
  }

  // Per call, the host key and needs were recomputed from scratch (sorting and serializing the
  // import map and policy, parsing URLs): ~19 µs of a warm call. They are cached by object
  // identity (a run passes the same import map and policy objects to every call), then by the
  // objects' plain JSON text (cheap, native), then per specifier. The objects are treated as
  // immutable once passed, as CallOptions documents them.
  const canonical = new WeakMap<object, string>();
  const canonicalByText = new Map<string, string>();
  function canonicalOf(value: object): string {
    let text = canonical.get(value);
    if (text === undefined) {
      const plain = JSON.stringify(value);
      text = canonicalByText.get(plain);
      if (text === undefined) {
        text = stableJson(value);
        if (canonicalByText.size >= 256) canonicalByText.clear();
        canonicalByText.set(plain, text);
      }
      canonical.set(value, text);
    }
    return text;
  }

  // The last key made, with the objects it was made of: a run's calls pass the same ones, and
  // the same key string looks its host up without hashing it again.
  let lastKey: {
    importMap: object;
    allow: object;
    env: object;
    memoryMb: number;
    grant: unknown;
    key: string;
  } | undefined;
  function hostKey(options: CallOptions): string {
    const grant = options.permissions.import ?? false;
    const { importMap, policy } = options;
    const memoryMb = policy.memoryMb ?? DEFAULT_MEMORY_MB;
    const { allow, env } = policy;
    const last = lastKey;
    if (
      last !== undefined && last.importMap === importMap &&
      last.allow === allow && last.env === env &&
      last.memoryMb === memoryMb && last.grant === grant
    ) {
      return last.key;
    }
    const key = `${canonicalOf(importMap)}\n${canonicalOf(allow)}\n${
      canonicalOf(env)
    }\n${memoryMb}\n${
      // Deno does not honour a Worker's `import` permission (denoland/deno#29503), so a step's
      // import grant is enforced by its host's --allow-import: hosts differ by it.
      typeof grant === "boolean" ? grant : stableJson(grant)}`;
    lastKey = { importMap, allow, env, memoryMb, grant, key };
    return key;
  }

  interface SpecifierNeeds {
    dir: string | undefined;
    hosts: string[];
  }
  const specifierNeeds = new Map<string, SpecifierNeeds>();
  function neededBy(specifier: string): SpecifierNeeds {
    let found = specifierNeeds.get(specifier);
    if (found === undefined) {
      found = { dir: dirOf(specifier), hosts: importHosts([specifier]) };
      if (specifierNeeds.size >= 4096) specifierNeeds.clear();
      specifierNeeds.set(specifier, found);
    }
    return found;
  }
  const mapNeeds = new WeakMap<object, HostNeeds>();
  function needsOfMap(importMap: Record<string, string>): HostNeeds {
    let needs = mapNeeds.get(importMap);
    if (needs === undefined) {
      needs = { readRoots: new Set(), importHosts: new Set() };
      for (const specifier of Object.values(importMap)) {
        const { dir, hosts: names } = neededBy(specifier);
        if (dir !== undefined) needs.readRoots.add(dir);
        for (const name of names) needs.importHosts.add(name);
      }
      mapNeeds.set(importMap, needs);
    }
    return needs;
  }

  // The map's needs widened by a specifier outside it, per map and specifier.
  const widenedNeeds = new WeakMap<HostNeeds, Map<string, HostNeeds>>();
  /** What a call needs of its host. The result is shared: copy it before changing it. */
  function needsOf(target: StepTarget, options: CallOptions): HostNeeds {
    const ofMap = needsOfMap(options.importMap);
    const { dir, hosts: names } = neededBy(target.specifier);
    if (
      (dir === undefined || ofMap.readRoots.has(dir)) &&
      names.every((name) => ofMap.importHosts.has(name))
    ) {
      return ofMap;
    }
    let widened = widenedNeeds.get(ofMap);
    if (widened === undefined) widenedNeeds.set(ofMap, widened = new Map());
    let needs = widened.get(target.specifier);
    if (needs === undefined) {
      needs = {
        readRoots: new Set(ofMap.readRoots),
        importHosts: new Set(ofMap.importHosts),
      };
      if (dir !== undefined) needs.readRoots.add(dir);
      for (const name of names) needs.importHosts.add(name);
      if (widened.size >= 4096) widened.clear();
      widened.set(target.specifier, needs);
    }
    return needs;
  }

  function satisfies(host: Host, needs: HostNeeds): boolean {
    for (const root of needs.readRoots) {
      if (!covers(host.needs.readRoots, root)) return false;
    }
    for (const name of needs.importHosts) {
      if (!host.needs.importHosts.has(name)) return false;
    }
    return true;
  }

  // Resolves with the host's connection; kills it and says why when it exits or does not
  // connect in time.
  async function connectionOf(
    spawned: SpawnedHost,
    denoPath: string,
  ): Promise<HostConnection> {
    const { child } = spawned;
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    let hasExited = false;
    const exited = child.status.then(() => {
      hasExited = true;
      return undefined;
    });
    const timeout = deadline(startTimeoutMs);
    const conn = await Promise.race([
      spawned.connection,
      exited,
      timeout.expired.then(() => undefined),
    ]).finally(timeout.cancel);
    if (conn !== undefined) return conn;
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited by itself; its output says why.
    }
    await child.status.catch(() => {});
    const [out, err] = await Promise.all([
      textOf(child.stdout),
      textOf(child.stderr),
    ]);
    throw new SandboxError(
      `Cannot start the sandbox host: ${
        hasExited
          ? "it exited"
          : `it did not connect within ${startTimeoutMs} ms`
      }${
        (out + err).trim() === "" ? "" : `: ${lastLines(out + err)}`
      }; check the Deno binary "${denoPath}" and the policy`,
    );
  }

  async function startHost(
    key: string,
    needs: HostNeeds,
    callOptions: CallOptions,
    preload: HostConfig["preload"],
    onLaunched?: () => void,
  ): Promise<Host> {
    system ??= await systemReady!;
    denoPath ??= system.denoPath();
    comlinkUrl ??= await system.comlinkFileUrl();
    const memoryMb = callOptions.policy.memoryMb ?? DEFAULT_MEMORY_MB;
    if (!Number.isInteger(memoryMb) || memoryMb < 16) {
      throw new PolicyError(
        `Cannot start a sandbox host: "policy.memoryMb" must be an integer of at least 16, found ${memoryMb}`,
      );
    }
    const grant = callOptions.permissions.import;
    const importList = [
      ...needs.importHosts,
      ...(Array.isArray(grant) ? grant : []),
    ];
    const srcDir = decodeURIComponent(sourceUrl(".").pathname).replace(
      /\/$/,
      "",
    );
    const comlinkDir = dirOf(comlinkUrl)!;
    // A pool host may grant its Workers these sockets, one per lane.
    const poolSize = options.poolSize ?? 8;
    const lanes = isolation === "pool"
      ? Array.from(
        { length: 2 * poolSize },
        (_, slot) => laneSocket(SOCKET_TOKEN, slot),
      )
      : [];
    const command: HostCommand = {
      denoPath,
      importMap: JSON.stringify({ imports: callOptions.importMap }),
      flags: hostPermissionFlags(
        grant === true
          ? { ...callOptions.policy.allow, import: true }
          : { ...callOptions.policy.allow, import: false },
        {
          read: [
            srcDir,
            comlinkDir,
            SOCKET_TOKEN,
            ...lanes,
            ...needs.readRoots,
          ],
          write: [SOCKET_TOKEN, ...lanes],
          net: [SOCKET_TOKEN, ...lanes].map((path) => `unix:${path}`),
          import: importList,
        },
      ),
      memoryMb,
      config: { comlinkUrl, preparedIdleMs: 10_000 },
      env: hostEnv(system, callOptions.policy.env),
    };
    if (preload !== undefined) command.config.preload = preload;
    // Synchronous, like everything up to here: the host process starts before the caller goes
    // on (a CLI loading the rest of itself), not after. A host the launcher started ahead of time
    // for exactly this command is used instead; it was told no workers to preload, so it is
    // told them once connected.
    const early = options.launcher?.take(command);
    const spawned = early ?? spawnHost(command, system);
    const { child, listener, dir } = spawned;
    // A hint is under way once its process starts (a host started ahead of time: once it has
    // been told its workers, below).
    if (early === undefined) onLaunched?.();
    try {
      // Loads while the host boots; the first host's connection is the first use.
      const comlinkLoading = loadComlink(comlinkUrl);
      const conn = await connectionOf(spawned, denoPath);
      // Frames are written straight to the socket: one write per message. A listener that
      // throws here is a bug of this file: it must not become an uncaught error in the
      // embedding process, so the host is stopped and its calls fail with that error.
      const started: { host?: Host } = {};
      const endpoint = createStdioEndpoint(conn, conn, {
        onListenerError: (error) => started.host?.fail(error),
      });
      // A host started ahead of time was told no workers: it starts them now, while comlink
      // loads here. Written before going on: the caller's next stretch of module loading
      // would hold the message back, and the host's workers wait for it.
      if (early !== undefined && preload !== undefined) {
        endpoint.channel(PRELOAD_CHANNEL).postMessage(preload);
        await endpoint.flushed();
      }
      let comlink: typeof Comlink;
      try {
        comlink = await comlinkLoading;
      } catch (error) {
        child.kill("SIGKILL");
        await Promise.all([endpoint.close(), child.status.catch(() => {})]);
        throw new SandboxError(
          `Cannot load comlink from "${comlinkUrl}": ${
            error instanceof Error ? error.message : String(error)
          }; run "deno install" in the stepbox directory so that node_modules/comlink exists`,
          { cause: error },
        );
      }
      // The host read its import map at start-up and the socket is connected: unless the
      // directory holds lanes to come, closing has nothing left to remove.
      if (lanes.length === 0) void system.remove(dir);
      // Unreadable (no read permission here): relative permission paths stay unresolved.
      const cwd = system.cwd();
      const host = new Host({
        key,
        needs,
        memoryMb,
        system,
        denoPath,
        child,
        endpoint,
        dir,
        preloaded: (preload ?? []).map((item) => item.specifier),
        comlink,
        lanes: lanes.length === 0 ? undefined : {
          sockets: lanes.map((path) =>
            path.replaceAll(SOCKET_TOKEN, spawned.socket)
          ),
          poolSize,
          idleMs: options.poolIdleMs ?? 30_000,
          cwd,
        },
      });
      started.host = host;
      return host;
    } catch (error) {
      await system.remove(dir);
      throw error;
    } finally {
      listener.close();
    }
  }

  function closeHost(host: Host): void {
    retired.delete(host);
    if (hosts.get(host.key) === host) hosts.delete(host.key);
    const promise = host.close().catch(() => {});
    closing.add(promise);
    void promise.then(() => closing.delete(promise));
  }

  function retire(host: Host): void {
    if (hosts.get(host.key) === host) hosts.delete(host.key);
    host.retiring = true;
    retired.add(host);
    if (host.pending.size === 0) closeHost(host);
  }

  // The live host that can run `target` with these options, when there is one (as for most
  // calls): found without an async step.
  function readyHost(
    target: StepTarget,
    callOptions: CallOptions,
  ): Host | undefined {
    if (closed) return undefined;
    const current = hosts.get(hostKey(callOptions));
    return current !== undefined && !current.isDead &&
        satisfies(current, needsOf(target, callOptions))
      ? current
      : undefined;
  }

  async function hostFor(
    target: StepTarget,
    callOptions: CallOptions,
    preload?: HostConfig["preload"],
    onLaunched?: () => void,
  ): Promise<Host> {
    const key = hostKey(callOptions);
    while (true) {
      if (closed) {
        throw new SandboxError("Cannot run a step: the executor is closed");
      }
      const ready = readyHost(target, callOptions);
      if (ready !== undefined) {
        onLaunched?.();
        return ready;
      }
      const inFlight = starting.get(key);
      if (inFlight !== undefined) {
        await inFlight.catch(() => {});
        continue;
      }
      const current = hosts.get(key);
      let needs = needsOf(target, callOptions);
      if (current !== undefined) {
        // Dead, or it cannot read/import what this call needs: start a wider one.
        needs = {
          readRoots: new Set(needs.readRoots),
          importHosts: new Set(needs.importHosts),
        };
        for (const root of current.needs.readRoots) needs.readRoots.add(root);
        for (const name of current.needs.importHosts) {
          needs.importHosts.add(name);
        }
        retire(current);
      }
      const promise = startHost(key, needs, callOptions, preload, onLaunched);
      starting.set(key, promise);
      try {
        const host = await promise;
        if (closed) {
          await host.close();
          throw new SandboxError("Cannot run a step: the executor is closed");
        }
        hosts.set(key, host);
        void host.died.then(() => closeHost(host));
        return host;
      } finally {
        starting.delete(key);
      }
    }
  }

  function prefetch(
    specifier: string,
    callOptions: CallOptions,
    host: Host,
  ): Promise<void> {
    // Fetching a remote module into Deno's cache before any Worker imports it avoids the
    // "dispatch task is gone" failures seen when Workers fetch concurrently.
    let done = prefetched.get(specifier);
    if (done === undefined) {
      done = (async () => {
        const system = host.system;
        let dir: string | undefined;
        try {
          const importMap = importMapArgument(
            JSON.stringify({ imports: callOptions.importMap }),
            system,
            () => dir = system.makeTempDirSync("stepbox-cache-"),
          );
          const hostsList = [...host.needs.importHosts];
          // The worker's own load reports whatever goes wrong here.
          await system.run(host.denoPath, [
            "cache",
            "--no-config",
            "--quiet",
            `--import-map=${importMap}`,
            ...(hostsList.length > 0
              ? [`--allow-import=${hostsList.join(",")}`]
              : []),
            specifier,
          ], hostEnv(system, {}));
        } catch {
          // No temporary directory: the worker's own load reports what is wrong.
        } finally {
          if (dir !== undefined) await system.remove(dir);
        }
      })();
      prefetched.set(specifier, done);
    }
    return done;
  }

  async function call(
    target: StepTarget,
    inputs: Record<string, unknown>,
    callOptions: CallOptions,
  ): Promise<unknown> {
    callOptions.signal?.throwIfAborted();
    // Malformed permissions fail here, with their own message, before any host starts.
    checkOnce(callOptions.permissions, toWorkerPermissions);
    checkOnce(callOptions.policy.allow, hostPermissionFlags);
    checkImportGrant(target, callOptions);
    const jsonSafe = callOptions.jsonSafeInputs === true;
    // A lane takes large inputs in pieces, which the Worker parses while the rest is sent.
    const encoded = isolation === "pool"
      ? encodePayload(inputs, { jsonSafe, split: splitOf })
      : encodePayload(inputs, { jsonSafe });
    const split = encoded.kind === "split" ? encoded : undefined;
    const payload = encoded.kind === "split" ? headOf(encoded) : encoded;
    for (let attempt = 0;; attempt++) {
      const host = readyHost(target, callOptions) ??
        await hostFor(target, callOptions);
      callOptions.signal?.throwIfAborted();
      if (isRemote(target.specifier)) {
        await prefetch(target.specifier, callOptions, host);
      }
      const stepCall: StepCall = {
        id: ++nextId,
        reference: target.reference,
        specifier: target.specifier,
        exportName: target.exportName,
        builtin: target.builtin,
        permissions: callOptions.permissions,
        inputs: payload,
      };
      if (callOptions.timeoutMs !== undefined) {
        stepCall.timeoutMs = callOptions.timeoutMs;
      }
      if (target.builtin) {
        stepCall.context = {
          workingDirectory: callOptions.workingDirectory ??
            host.system.cwd() ?? "/",
          env: callOptions.env,
        };
      }
      if (isolation === "step") host.workersStarted++;
      try {
        return isolation === "pool"
          ? await host.runPooled(stepCall, target, callOptions, split)
          : await host.run(stepCall, target, callOptions);
      } catch (error) {
        // One retry for a remote module that failed to load: concurrent fetches by Workers
        // can fail spuriously while a sequential one succeeds.
        if (
          attempt === 0 && isRemote(target.specifier) &&
          error instanceof SandboxError &&
          error.message.startsWith("Cannot load")
        ) {
          continue;
        }
        throw error;
      } finally {
        // Retire after the call, not before: the host must finish what it was given.
        if (host.workersStarted >= maxWorkersPerHost && !host.retiring) {
          retire(host);
        } else if (
          host.retiring && host.pending.size === 0 && retired.has(host)
        ) {
          closeHost(host);
        }
      }
    }
  }

  return {
    info,
    call,
    prepare(target, callOptions) {
      if (closed) return Promise.resolve();
      let underWay!: () => void;
      const launched = new Promise<void>((resolve) => underWay = resolve);
      void (async () => {
        const workerTarget: WorkerTarget = {
          reference: target.reference,
          specifier: target.specifier,
          permissions: callOptions.permissions,
        };
        // A host started for this hint starts a `step` worker itself, at once, while it
        // connects (a remote module is fetched into the cache first, so it is prepared
        // afterwards). A lane needs its host connected first.
        const preload = isolation === "pool" || isRemote(target.specifier)
          ? undefined
          : [workerTarget];
        const host = await hostFor(target, callOptions, preload, underWay);
        if (host.takePreloaded(target.specifier)) {
          host.workersStarted++;
          return;
        }
        if (isRemote(target.specifier)) {
          await prefetch(target.specifier, callOptions, host);
        }
        if (isolation === "pool") {
          host.warmLane(workerTarget);
        } else {
          host.workersStarted++;
          await host.api.prepare(workerTarget);
        }
      })().catch(() => {
        // A hint only: the call itself reports any failure.
      }).finally(underWay);
      return launched;
    },
    async stats() {
      const result: SandboxStats = { hosts: [] };
      for (const host of [...hosts.values(), ...retired]) {
        if (host.isDead) continue;
        const stats = await Promise.race([
          host.api.stats(),
          host.died.then(() => undefined),
        ]);
        if (stats === undefined) continue;
        result.hosts.push({
          ...stats,
          pid: host.pid,
          pendingCalls: host.pending.size,
          runningCommands: host.runningCommands,
        });
      }
      return result;
    },
    async close() {
      closed = true;
      // Stopped before the first await: a process that exits right after calling close() (the
      // CLI) leaves no host behind even if it never resumes.
      for (const host of [...hosts.values(), ...retired]) host.stop();
      await Promise.allSettled([...starting.values()]);
      const all = [...hosts.values(), ...retired];
      hosts.clear();
      retired.clear();
      for (const host of all) closeHost(host);
      await Promise.all([...closing]);
      await Promise.allSettled([...prefetched.values()]);
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
