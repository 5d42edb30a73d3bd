/**
 * The parent's end of a lane: a `pool` Worker's own socket straight to the parent (see
 * `lane_entry.ts`), so that a warm call is one frame out and one back across one process
 * boundary. The parent listens on a socket path its host may grant, asks the host to start the
 * Worker, and takes the first connection that says `hello` with the lane's token.
 *
 * @module
 */

import type * as Comlink from "npm:comlink@^4.4.2";
import { SandboxError } from "../errors.ts";
import type { HostApi, WorkerTarget } from "./host_main.ts";
import type { LaneGrant } from "./policy.ts";
import type { HostSystem } from "./_system.ts";
import { PieceAssembly, sendPieces, type Split } from "./_pieces.ts";
import {
  deserializeError,
  serializeError,
  type StepOutcome,
} from "./protocol.ts";
import { createStdioEndpoint, type StdioEndpoint } from "./stdio_endpoint.ts";
import type { RunRequest, WorkerSignal } from "./worker_entry.ts";

// How long a lane that closed by itself waits for its host to say why, before a generic reason.
const REASON_WAIT_MS = 1000;

/** What a lane needs of its sandbox host. */
export interface LaneHost {
  readonly api: Comlink.Remote<Pick<HostApi, "openLane" | "closeLane">>;
  /** Resolves once the host has died, with why, for the step of a given target. */
  readonly died: Promise<(target: WorkerTarget) => unknown>;
  /** The parent's runtime, whose sockets the lanes listen on. */
  readonly system: Pick<HostSystem, "listen" | "removeSync">;
}

/** What a lane tells its owner. */
export interface LaneEvents {
  /** A call's live output or answer arrived. */
  signal(signal: WorkerSignal): void;
  /** The lane ended without being closed by this side: told at once, so that no call takes it
   * any more; `reason` resolves with why, once the host has said (or a generic reason). */
  ended(lane: Lane, reason: Promise<unknown>): void;
}

/** A lane to one warm Worker, opening or open. */
export class Lane {
  readonly socket: string;
  readonly target: WorkerTarget;
  /** Resolves once the Worker has connected; rejects with why it could not (its module did not
   * load, its host died). */
  readonly opened: Promise<void>;
  /** The call the Worker is running, if any. */
  callId: number | undefined;
  #endpoint: StdioEndpoint | undefined;
  #post: ((message: WorkerSignal) => void) | undefined;
  #closing: Promise<void> | undefined;
  #report!: (reason: unknown) => void;
  readonly #reported: Promise<unknown>;
  readonly #host: LaneHost;
  readonly #hostDied: Promise<unknown>;

  /**
   * Opens a lane: listens on `socket`, asks the host to start the Worker, and waits for its
   * `hello`.
   *
   * @param host The sandbox host that runs the Worker.
   * @param socket A socket path the host may grant (free: nothing else listens there).
   * @param target The module and the permissions of its calls.
   * @param grant What the Worker is granted until connected.
   * @param events Where answers and an unexpected end go.
   */
  constructor(
    host: LaneHost,
    socket: string,
    target: WorkerTarget,
    grant: LaneGrant,
    events: LaneEvents,
  ) {
    this.#host = host;
    this.#hostDied = host.died.then((reason) => reason(target));
    this.socket = socket;
    this.target = target;
    this.#reported = new Promise((resolve) => this.#report = resolve);
    this.opened = this.#open(grant, events);
    this.opened.catch(() => {});
  }

  /** Whether the Worker has connected and the lane is not closed. */
  get isOpen(): boolean {
    return this.#post !== undefined && this.#closing === undefined;
  }

  /**
   * Sends one call to the Worker; with `split` (whose head is the request's inputs), the list's
   * items follow in pieces. Resolves once everything is posted; rejects when the inputs cannot
   * be written.
   */
  async run(id: number, request: RunRequest, split?: Split): Promise<void> {
    this.callId = id;
    const post = this.#post!;
    post({ stepbox: "run", id, request });
    if (split === undefined) return;
    await sendPieces(
      split,
      (piece) => post({ stepbox: "piece", id, ...piece }),
      this.#endpoint!.flushed,
      () => this.isOpen && this.callId === id,
    );
  }

  /** The host's word on why the Worker ended (it reports every end this side did not ask for). */
  report(reason: unknown): void {
    this.#report(reason);
  }

  /**
   * Closes the lane and has the host end its Worker. Resolves once the host has ended it (or has
   * died), when the socket path may serve another lane.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#report(undefined);
      await this.#endpoint?.close();
      try {
        await Promise.race([
          this.#host.api.closeLane(this.socket),
          this.#hostDied,
        ]);
      } catch {
        // The host is closing: its Workers end with it.
      }
    })();
    return this.#closing;
  }

  async #open(grant: LaneGrant, events: LaneEvents): Promise<void> {
    const system = this.#host.system;
    // Whatever a lane before this one left there.
    system.removeSync(this.socket);
    const listener = system.listen(this.socket);
    const token = crypto.randomUUID();
    const handshakes = new Set<StdioEndpoint>();
    let isAccepted = false;
    let accepted!: (endpoint: StdioEndpoint) => void;
    const connected = new Promise<StdioEndpoint>((resolve) =>
      accepted = resolve
    );
    // Any process allowed to reach the socket may connect: only the first one that knows the
    // token is this lane's Worker. Each connection is heard on its own, so a silent one blocks
    // none; every other one is closed.
    void (async () => {
      try {
        while (true) {
          const conn = await listener.accept();
          const endpoint = createStdioEndpoint(conn, conn);
          handshakes.add(endpoint);
          endpoint.channel(0).addEventListener("message", (event) => {
            if (!handshakes.delete(endpoint)) return;
            const signal = (event as MessageEvent).data as WorkerSignal;
            if (
              !isAccepted && signal?.stepbox === "hello" &&
              signal.token === token
            ) {
              isAccepted = true;
              accepted(endpoint);
            } else {
              void endpoint.close();
            }
          }, { once: true });
        }
      } catch {
        // The listener was closed.
      }
    })();
    const started = this.#host.api.openLane(this.target, {
      socket: this.socket,
      token,
      grant,
    });
    const failed = (reason: unknown): Promise<never> =>
      Promise.reject(
        reason ?? new SandboxError("The lane was closed before it opened"),
      );
    try {
      const endpoint = await Promise.race([
        connected,
        started.then((opened) =>
          opened.ok ? new Promise<never>(() => {}) : failed(
            deserializeError(opened.error),
          )
        ),
        this.#reported.then(failed),
        this.#hostDied.then(failed),
      ]);
      this.#endpoint = endpoint;
      if (this.#closing !== undefined) {
        await endpoint.close();
        return failed(undefined);
      }
      const channel = endpoint.channel(0);
      // An answer sent in pieces is passed on whole, once its last piece is in.
      let pieces: { id: number; assembly: PieceAssembly } | undefined;
      const answer = (id: number, outcome: StepOutcome) => {
        pieces = undefined;
        events.signal({ stepbox: "done", id, outcome });
      };
      channel.addEventListener("message", (event) => {
        const signal = (event as MessageEvent).data as WorkerSignal;
        if (
          signal.stepbox === "done" && signal.outcome.ok &&
          signal.outcome.value.kind === "pieces"
        ) {
          try {
            const assembly = new PieceAssembly(signal.outcome.value);
            pieces = { id: signal.id, assembly };
          } catch (error) {
            answer(signal.id, { ok: false, error: serializeError(error) });
          }
        } else if (signal.stepbox !== "piece") {
          events.signal(signal);
        } else if (pieces?.id === signal.id) {
          const { id, assembly } = pieces;
          try {
            if ("error" in signal) {
              answer(id, { ok: false, error: signal.error });
            } else {
              assembly.add(signal.text);
              if (signal.last) {
                const value = assembly.value;
                answer(id, { ok: true, value: { kind: "clone", value } });
              }
            }
          } catch (error) {
            answer(id, { ok: false, error: serializeError(error) });
          }
        }
      });
      this.#post = (message) => channel.postMessage(message);
      void endpoint.closed.then(() => {
        if (this.#closing !== undefined) return;
        events.ended(
          this,
          Promise.race([
            this.#reported,
            this.#hostDied,
            new Promise((resolve) => setTimeout(resolve, REASON_WAIT_MS)),
          ]).then((reason) =>
            reason ?? new SandboxError(
              `The worker of "${this.target.reference}" ended unexpectedly; the step was not completed`,
              { moduleUrl: this.target.specifier },
            )
          ),
        );
      });
    } finally {
      listener.close();
      for (const endpoint of handshakes) void endpoint.close();
      system.removeSync(this.socket);
    }
  }
}
