/**
 * Watching the processes a step's command starts: tests make a command write the pid of a
 * background process to a file, stop the step, then check that the process has ended.
 *
 * @module
 */

/**
 * Waits until `file` holds a pid and a newline (`echo $! > file`), and returns the pid.
 *
 * @example
 * ```ts ignore
 * const pid = await waitForPid(`${dir}/background.pid`);
 * ```
 */
export async function waitForPid(file: string): Promise<number> {
  for (let waited = 0; waited < 20_000; waited += 20) {
    const text = await Deno.readTextFile(file).catch(() => "");
    if (text.endsWith("\n")) return Number(text);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${file} was never written: the command did not start`);
}

/**
 * Resolves once process `pid` is gone, or a zombie that no one has reaped yet (killed either
 * way); throws if it still runs after 3 seconds.
 *
 * @example
 * ```ts ignore
 * await assertProcessGone(pid, "after the timeout");
 * ```
 */
export async function assertProcessGone(
  pid: number,
  when: string,
): Promise<void> {
  let state = "";
  for (let waited = 0; waited < 3000; waited += 20) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "" || state === "Z") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${when}, process ${pid} is still running (state ${state})`);
}
