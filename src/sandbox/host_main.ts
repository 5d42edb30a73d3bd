/**
 * The sandbox host process (its main module is `host_entry.ts`, which starts the preloaded
 * workers first): it connects back to the parent over a private Unix socket (never stdio, which
 * every Worker can read and write without any permission), exposes {@linkcode HostApi} over
 * comlink, answers step calls on {@linkcode CALL_CHANNEL}, and runs each step call in a Web
 * Worker whose `deno.permissions` sets every key. A `pool` Worker is opened as a lane
 * ({@linkcode HostApi.openLane}): it then serves its calls on a socket of its own, straight to
 * the parent, and the host only starts and ends it.
 *
 * A memory bomb in a Worker takes this whole process down at the heap cap; the parent sees the
 * exit, fails the pending calls at once and starts a new host.
 *
 * @module
 */

import type * as Comlink from "npm:comlink@^4.4.2";
import { PolicyError, SandboxError } from "../errors.ts";
import type { Permissions } from "../types.ts";
import { CommandGroups } from "./_command_groups.ts";
import { type EarlyWorker, startWorker } from "./_start_worker.ts";
import { type LaneGrant, laneRevocations } from "./policy.ts";
import {
  CALL_CHANNEL,
  type CallAnswer,
  PRELOAD_CHANNEL,
  runRequestOf,
  type SerializedError,
  serializeError,
  type StepCall,
  type StepOutcome,
  stepTimeoutError,
} from "./protocol.ts";
import {
  type ByteReader,
  type ByteWriter,
  createStdioEndpoint,
} from "./stdio_endpoint.ts";
import type { WorkerSignal } from "./worker_entry.ts";

/** What the parent passes to a host as its only argument (JSON). */
export interface HostConfig {
  /** The Unix socket the parent listens on. */
  socket: string;
  /** The `file:` URL of comlink's ES module build. */
  comlinkUrl: string;
  /** A prepared (pre-spawned) worker that is not used within this time is ended, in ms. */
  preparedIdleMs: number;
  /** Workers to start at once, before the first call asks (the CLI knows its first step). */
  preload?: WorkerTarget[];
}

/** Which module a worker is for, and with what permissions. */
export interface WorkerTarget {
  reference: string;
  specifier: string;
  permissions: Permissions;
}

/** Where a lane Worker connects, and what proves the connection is its own. */
export interface LaneOpening {
  /** The Unix socket the parent listens on for this lane (one the host may connect to). */
  socket: string;
  /** Sent back by the Worker as its first frame. */
  token: string;
  /** What the Worker is granted until it has connected. */
  grant: LaneGrant;
}

/** Whether a lane's Worker loaded its module and was told where to connect. */
export type LaneOpened = { ok: true } | { ok: false; error: SerializedError };

/** The host's API, exposed to the parent on channel 0. */
export interface HostApi {
  /** Runs one step call in a fresh worker. Never rejects: failures are envelopes. */
  call(call: StepCall): Promise<StepOutcome>;
  /** Cancels a call: its worker is terminated. */
  cancel(id: number): void;
  /** Starts a spare worker for `target` ahead of its call. */
  prepare(target: WorkerTarget): void;
  /** Starts a `pool` worker for `target` that serves its calls on a lane of its own; answers
   * once it is told where to connect, or with why it could not load. */
  openLane(target: WorkerTarget, lane: LaneOpening): Promise<LaneOpened>;
  /** Ends the worker of a lane (its socket path), if it is still alive. */
  closeLane(socket: string): void;
  /** Live and started worker counts. */
  stats(): HostStats;
}

/** Worker counts of a host. */
export interface HostStats {
  /** Workers alive now (running, warm or prepared). */
  liveWorkers: number;
  /** Workers started since the host started. */
  startedWorkers: number;
  /** Workers serving lanes (`pool` isolation). */
  pooledWorkers: number;
  /** The host's memory in bytes: resident set, its main V8 heap in use, and external buffers. */
  memory: { rss: number; heapUsed: number; external: number };
}

/** The parent's API, exposed to the host on channel 1. */
export interface ParentApi {
  /** Live output of a built-in step. */
  output(id: number, stream: "stdout" | "stderr", text: string): void;
  /** Why the worker of a lane ended, when the parent did not end it. */
  laneEnded(socket: string, error: SerializedError): void;
  /**
   * A built-in's command (the leader of a process group of its own) started or ended: should
   * this host die without ending its commands (killed, out of memory), the parent ends them.
   */
  command(pid: number, running: boolean): void;
}

interface WorkerHandle {
  readonly target: WorkerTarget;
  /** Sends one call envelope; the answer comes back as a `done` message. */
  post(message: WorkerSignal): void;
  /** Resolves once the module loaded; rejects with the reason when the worker died first. */
  readonly ready: Promise<void>;
  /** Calls `listener` with the reason once the worker dies or is killed (at once if it has).
   * Returns the unsubscribe function: a warm worker serves many calls, and a listener (or a
   * `.then` on a promise that stays pending) kept per call would grow without bound. */
  onDeath(listener: (reason: unknown) => void): () => void;
  readonly isDead: boolean;
  /** Commands its built-in started that still run; ended when it is killed. */
  readonly commands: CommandGroups;
  kill(reason: unknown): void;
}

// Most prepared (spare) workers a host keeps at once.
const MAX_PREPARED = 4;

function workerKey(target: WorkerTarget): string {
  return JSON.stringify([target.specifier, target.permissions]);
}

/** What {@linkcode runHost} is given beyond its config: work its entry module already began. */
export interface HostStart {
  /** Workers already started for `config.preload`, adopted by the first spawn of their
   * target. */
  early: readonly EarlyWorker[];
  /** The connection to the parent, being opened. */
  connecting: Promise<ByteReader & ByteWriter & { close(): void }>;
}

/**
 * Serves calls on the parent's connection until it closes, then ends every worker.
 *
 * @param config What the parent passed (see `host_entry.ts`).
 * @param start Work already begun by the entry module.
 *
 * @example
 * ```ts ignore
 * const config = JSON.parse(Deno.args[0]);
 * const connecting = Deno.connect({ transport: "unix", path: config.socket });
 * await runHost(config, { early: [], connecting });
 * ```
 */
export async function runHost(
  config: HostConfig,
  { early, connecting }: HostStart,
): Promise<void> {
  // Loading comlink, connecting and starting the preloaded workers overlap.
  const comlinkLoading: Promise<typeof Comlink> = import(config.comlinkUrl);
  comlinkLoading.catch(() => {});
  // Set once connected; built-in output is the only use before that could matter, and no call
  // arrives before the connection exists.
  const parent: { api?: Comlink.Remote<ParentApi> } = {};
  const live = new Set<WorkerHandle>();
  const cancels = new Map<number, (reason: unknown) => void>();
  const prepared = new Map<
    string,
    { handle: WorkerHandle; cancelTimer: () => void }
  >();

  // Deno's first setTimeout() loads its Node-compatible timers, about 4 ms of this thread: the
  // idle timers of workers started before the first call wait until its answer is out.
  let timersHeld = true;
  const heldTimers: Array<() => void> = [];
  function idleTimer(fn: () => void, ms: number): () => void {
    let cancelled = false;
    let cancel = () => {
      cancelled = true;
    };
    const arm = () => {
      if (cancelled) return;
      const id = setTimeout(fn, ms);
      cancel = () => clearTimeout(id);
    };
    if (timersHeld) heldTimers.push(arm);
    else arm();
    return () => cancel();
  }
  function releaseTimers(): void {
    if (!timersHeld) return;
    timersHeld = false;
    for (const arm of heldTimers.splice(0)) arm();
  }
  let startedWorkers = 0;
  // Answers of the lean call path, by call id, while their worker runs them.
  const waiting = new Map<number, (outcome: StepOutcome) => void>();
  const writers = new Map<
    number,
    (stream: "stdout" | "stderr", text: string) => void
  >();

  const earlyByKey = new Map(
    early.map((worker) => [workerKey(worker.target), worker]),
  );

  function takeEarly(target: WorkerTarget): EarlyWorker | undefined {
    if (earlyByKey.size === 0) return undefined;
    const key = workerKey(target);
    const started = earlyByKey.get(key);
    earlyByKey.delete(key);
    return started;
  }

  function spawn(target: WorkerTarget, lane?: LaneGrant): WorkerHandle {
    // A preloaded worker serves calls relayed by this host, never a lane.
    const started = lane === undefined ? takeEarly(target) : undefined;
    let worker: Worker;
    try {
      const begun = started?.started;
      if (begun !== undefined && "error" in begun) throw begun.error;
      worker = begun?.worker ?? startWorker(target, lane);
    } catch (error) {
      const reason = new PolicyError(
        `Cannot start a worker for "${target.reference}": ${
          error instanceof Error ? error.message : String(error)
        }; the sandbox host's own permissions (the run's ceiling) do not cover the step's permissions`,
        { cause: error },
      );
      return deadHandle(target, reason);
    }
    startedWorkers++;
    // Only a Worker granted `run` can start commands: from the first, signals reach them here.
    if (target.permissions.run) endCommandsOnSignals(live);
    const commands = new CommandGroups();
    let isReady = false;
    let isDead = false;
    let markReady!: () => void;
    let failReady!: (reason: unknown) => void;
    let deathReason: unknown;
    const deathListeners = new Set<(reason: unknown) => void>();
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(() => {});
    const handle: WorkerHandle = {
      target,
      post(message) {
        worker.postMessage(message);
      },
      ready,
      onDeath(listener) {
        if (isDead) {
          listener(deathReason);
          return () => {};
        }
        deathListeners.add(listener);
        return () => deathListeners.delete(listener);
      },
      get isDead() {
        return isDead;
      },
      commands,
      kill(reason) {
        if (isDead) return;
        isDead = true;
        deathReason = reason;
        worker.terminate();
        commands.signal("SIGKILL");
        live.delete(handle);
        failReady(reason);
        for (const listener of deathListeners) listener(reason);
        deathListeners.clear();
      },
    };
    live.add(handle);
    const onMessage = (event: MessageEvent) => {
      const signal = event.data as WorkerSignal | undefined;
      if (signal?.stepbox === "done") {
        waiting.get(signal.id)?.(signal.outcome);
      } else if (signal?.stepbox === "write") {
        writers.get(signal.id)?.(signal.stream, signal.text);
      } else if (signal?.stepbox === "command") {
        if (signal.running) commands.add(signal.pid);
        else commands.delete(signal.pid);
        parent.api?.command(signal.pid, signal.running).catch(() => {});
      } else if (signal?.stepbox === "ready") {
        isReady = true;
        markReady();
      } else if (signal?.stepbox === "exit") {
        handle.kill(
          new SandboxError(
            `The worker of "${target.reference}" closed itself with ${signal.how}; a step must return (or throw) instead of ending its worker`,
            { moduleUrl: target.specifier },
          ),
        );
      }
    };
    const onError = (event: ErrorEvent) => {
      // Handled here: without this Deno also prints "error: Uncaught (in worker ...)".
      event.preventDefault();
      const detail = oneLine(event.message ?? String(event.error));
      handle.kill(
        isReady
          ? new SandboxError(
            `The worker of "${target.reference}" failed: ${detail}; a step must not throw from timers or leave promises rejected after it returns`,
            { moduleUrl: target.specifier },
          )
          : new SandboxError(
            `Cannot load "${target.specifier}" for step "${target.reference}": ${detail}; check that the module exists, parses, and that its imports are in the run's import map`,
            { moduleUrl: target.specifier },
          ),
      );
    };
    const onMessageError = () => {
      handle.kill(
        new SandboxError(
          `The worker of "${target.reference}" sent a message that cannot be read`,
          { moduleUrl: target.specifier },
        ),
      );
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    worker.addEventListener("messageerror", onMessageError);
    // What an early worker sent before these listeners existed, in order.
    for (const event of started?.adopt() ?? []) {
      if (handle.isDead) break;
      if (event.type === "message") onMessage(event as MessageEvent);
      else if (event.type === "error") onError(event as ErrorEvent);
      else onMessageError();
    }
    return handle;
  }

  function deadHandle(target: WorkerTarget, reason: unknown): WorkerHandle {
    const failed = Promise.reject(reason);
    failed.catch(() => {});
    return {
      target,
      post() {},
      ready: failed,
      onDeath(listener) {
        listener(reason);
        return () => {};
      },
      isDead: true,
      commands: new CommandGroups(),
      kill() {},
    };
  }

  // The workers of open lanes, by socket path.
  const lanes = new Map<string, WorkerHandle>();

  function takePrepared(key: string): WorkerHandle | undefined {
    const entry = prepared.get(key);
    if (entry === undefined) return undefined;
    prepared.delete(key);
    entry.cancelTimer();
    return entry.handle.isDead ? undefined : entry.handle;
  }

  async function run(
    handle: WorkerHandle,
    call: StepCall,
  ): Promise<StepOutcome> {
    const request = runRequestOf(call);
    // What the step prints, and a built-in's live output: posted in order before the answer,
    // on the same socket, so the parent sees it before the result without acknowledgements.
    writers.set(call.id, (stream, text) => {
      void parent.api?.output(call.id, stream, text);
    });
    let unsubscribe = () => {};
    try {
      // Rejects with the reason when the worker died before it loaded its module.
      await handle.ready;
      return await new Promise<StepOutcome>((resolve) => {
        waiting.set(call.id, resolve);
        unsubscribe = handle.onDeath((reason) =>
          resolve({ ok: false, error: serializeError(reason) })
        );
        handle.post({ stepbox: "run", id: call.id, request });
      });
    } catch (error) {
      // The worker could not load its module, or the request could not be cloned.
      return { ok: false, error: serializeError(error) };
    } finally {
      unsubscribe();
      waiting.delete(call.id);
      writers.delete(call.id);
    }
  }

  const deferred: Array<() => void> = [];
  let flushScheduled = false;
  function flushDeferred(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setTimeout(() => {
      flushScheduled = false;
      for (const task of deferred.splice(0)) task();
    }, 0);
  }

  function prepareNow(target: WorkerTarget): void {
    const key = workerKey(target);
    if (prepared.has(key)) return;
    if (prepared.size >= MAX_PREPARED) {
      // Bounded: a long run of different steps must not leave a spare behind each one.
      const [oldestKey, oldest] = prepared.entries().next().value!;
      prepared.delete(oldestKey);
      oldest.cancelTimer();
      oldest.handle.kill(new Error("unused"));
    }
    const handle = spawn(target);
    const cancelTimer = idleTimer(() => {
      prepared.delete(key);
      handle.kill(new Error("unused"));
    }, config.preparedIdleMs);
    prepared.set(key, { handle, cancelTimer });
  }

  // Targets whose spare (prepared) worker is started after the current call answers.
  const spareAfter = new Set<WorkerTarget>();
  const called = new Set<string>();
  function calledBefore(key: string): boolean {
    if (called.has(key)) return true;
    if (called.size >= 1024) called.clear();
    called.add(key);
    return false;
  }
  function startSpares(): void {
    if (spareAfter.size === 0) return;
    const targets = [...spareAfter];
    spareAfter.clear();
    for (const target of targets) {
      deferred.push(() => prepareNow(target));
    }
    flushDeferred();
  }

  const api: HostApi = {
    async call(call) {
      const target: WorkerTarget = {
        reference: call.reference,
        specifier: call.specifier,
        permissions: call.permissions,
      };
      const key = workerKey(target);
      const handle = takePrepared(key) ?? spawn(target);
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (call.timeoutMs !== undefined) {
        const timeoutMs = call.timeoutMs;
        timer = setTimeout(() => {
          handle.kill(stepTimeoutError(call.reference, timeoutMs));
        }, timeoutMs);
      }
      cancels.set(call.id, (reason) => handle.kill(reason));
      try {
        const outcome = await run(handle, call);
        handle.kill(new Error("done"));
        // The next call of this step (a loop, a service calling it again) finds its fresh
        // worker already loading. Spawned once this answer is out (new Worker() blocks this
        // thread for milliseconds), only after a success (a failed load would fail again),
        // and only for a step called before: a one-off step (a CLI run) wastes no worker.
        if (outcome.ok && calledBefore(key)) spareAfter.add(target);
        return outcome;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        cancels.delete(call.id);
      }
    },
    cancel(id) {
      cancels.get(id)?.(
        new DOMException("The call was cancelled", "AbortError"),
      );
    },
    prepare(target) {
      // new Worker() blocks this thread for milliseconds: answer this message first.
      deferred.push(() => prepareNow(target));
      flushDeferred();
    },
    async openLane(target, lane) {
      // A worker still on this socket ends as closeLane ends it: unreported, since a report
      // by socket would reach the new lane.
      api.closeLane(lane.socket);
      const handle = spawn(target, lane.grant);
      lanes.set(lane.socket, handle);
      const forget = () => {
        if (lanes.get(lane.socket) === handle) lanes.delete(lane.socket);
      };
      try {
        await handle.ready;
      } catch (error) {
        forget();
        return { ok: false, error: serializeError(error) };
      }
      handle.onDeath((reason) => {
        // Still listed: it ended by itself, not through closeLane.
        if (lanes.get(lane.socket) !== handle) return;
        forget();
        void parent.api?.laneEnded(lane.socket, serializeError(reason));
      });
      handle.post({
        stepbox: "lane",
        socket: lane.socket,
        token: lane.token,
        revoke: laneRevocations(lane.grant),
      });
      return { ok: true };
    },
    closeLane(socket) {
      const handle = lanes.get(socket);
      if (handle === undefined) return;
      // Unlisted first: an end the parent asked for is not reported back to it.
      lanes.delete(socket);
      handle.kill(new Error("lane closed"));
    },
    stats() {
      const { rss, heapUsed, external } = Deno.memoryUsage();
      return {
        liveWorkers: live.size,
        startedWorkers,
        pooledWorkers: lanes.size,
        memory: { rss, heapUsed, external },
      };
    },
  };

  for (const target of config.preload ?? []) prepareNow(target);
  const comlink = await comlinkLoading;
  const conn = await connecting;
  // Frames are written straight to the socket: one write per message.
  // Bytes received move on to a worker: each needs a buffer of its own.
  const endpoint = createStdioEndpoint(conn, conn, { ownBytes: true });
  parent.api = comlink.wrap<ParentApi>(endpoint.channel(1));
  comlink.expose(api, endpoint.channel(0));
  endpoint.channel(PRELOAD_CHANNEL).addEventListener("message", (event) => {
    const preload = (event as MessageEvent).data as HostConfig["preload"];
    for (const target of preload ?? []) prepareNow(target);
  });
  const calls = endpoint.channel(CALL_CHANNEL);
  calls.addEventListener("message", (event) => {
    const call = (event as MessageEvent).data as StepCall;
    void api.call(call).catch((error): StepOutcome => ({
      ok: false,
      error: serializeError(error),
    })).then((outcome) => {
      const answer: CallAnswer = { id: call.id, outcome };
      try {
        calls.postMessage(answer);
      } catch (error) {
        // An answer the frames cannot carry: say so instead of leaving the call pending.
        calls.postMessage(
          {
            id: call.id,
            outcome: { ok: false, error: serializeError(error) },
          } satisfies CallAnswer,
        );
      }
      // The answer is written (socket writes start at once): timers may cost time now.
      releaseTimers();
      startSpares();
    });
  });
  await endpoint.closed;
  for (const { handle, cancelTimer } of prepared.values()) {
    cancelTimer();
    handle.kill(new Error("host closing"));
  }
  for (const handle of [...live]) handle.kill(new Error("host closing"));
  try {
    conn.close();
  } catch {
    // Already closed by the parent.
  }
}

// The commands of built-ins lead process groups of their own, which a Ctrl-C in a terminal does
// not reach: this host, in the parent's group, passes SIGINT on and leaves the rest to the
// parent. The parent's close() sends SIGTERM: the commands end, then the host and its Workers.
// Listened for from the first Worker that may start commands on (one granted `run`): until
// then both signals end the host at once, as they always did.
let listening = false;
function endCommandsOnSignals(live: ReadonlySet<WorkerHandle>): void {
  if (listening) return;
  listening = true;
  try {
    Deno.addSignalListener("SIGINT", () => {
      for (const handle of live) handle.commands.signal("SIGINT");
    });
    Deno.addSignalListener("SIGTERM", () => {
      for (const handle of live) handle.commands.signal("SIGKILL");
      Deno.exit(0);
    });
  } catch {
    // No such signals on this platform.
  }
}

// A worker's error as one clean line: the first line without Deno's "Uncaught (in worker ...)"
// prefix, colours and the generated entry's stack line, plus where in the step module it
// happened (a syntax error's file:line:column) when Deno says so.
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex -- Deno colours its error output
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
  const lines = plain.split("\n").map((line) => line.trim());
  const first = (lines.find((line) => line !== "") ?? plain)
    .replace(/^Uncaught (\(in worker [^)]*\) )?/, "")
    .replace(/\s+at data:\S*$/, "").trim().replace(/\.$/, "");
  const where = lines.find((line) => /^at (file|https?):/.test(line));
  return where === undefined || first.includes(where.slice(3))
    ? first
    : `${first} (${where})`;
}
