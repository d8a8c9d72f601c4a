/** What the benchmark's sections share: timing, memory sampling, logging. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** The resident memory, in bytes, of the workerd processes in a process group. */
export async function workerdRss(processGroup: number): Promise<number> {
  const { stdout } = await promisify(execFile)("ps", ["-eo", "pgid=,rss=,comm="]);
  let kib = 0;
  for (const line of stdout.split("\n")) {
    const [pgid, rss, command] = line.trim().split(/\s+/);
    if (Number(pgid) === processGroup && command?.startsWith("workerd")) {
      kib += Number(rss);
    }
  }
  return kib * 1024;
}

/** Runs `work` while sampling workerd's resident memory; returns its result and the peak. */
export async function withPeakRss<T>(
  processGroup: number,
  work: () => Promise<T>,
): Promise<{ value: T; peak: number }> {
  let peak = await workerdRss(processGroup);
  const run = { sampling: true };
  const sampler = (async () => {
    while (run.sampling) {
      peak = Math.max(peak, await workerdRss(processGroup));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    return { value: await work(), peak };
  } finally {
    run.sampling = false;
    await sampler;
  }
}

export function format(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

export function log(message: string): void {
  console.error(`bench: ${message}`);
}
