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

/**
 * Runs `work` while sampling workerd's resident memory; returns its result,
 * the peak, and the peaks of the first and second halves of the run (memory
 * that is flat in the work done has the second no higher than the first).
 */
export async function withPeakRss<T>(
  processGroup: number,
  work: () => Promise<T>,
): Promise<{ value: T; peak: number; firstHalf: number; secondHalf: number }> {
  const samples: { at: number; rss: number }[] = [];
  const start = performance.now();
  const run = { sampling: true };
  const sampler = (async () => {
    while (run.sampling) {
      samples.push({ at: performance.now() - start, rss: await workerdRss(processGroup) });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    const value = await work();
    const middle = (performance.now() - start) / 2;
    const peakOf = (part: typeof samples): number => Math.max(0, ...part.map((sample) => sample.rss));
    return {
      value,
      peak: peakOf(samples),
      firstHalf: peakOf(samples.filter((sample) => sample.at < middle)),
      secondHalf: peakOf(samples.filter((sample) => sample.at >= middle)),
    };
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
