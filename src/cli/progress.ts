/**
 * Progress of a long step (hashing, uploading): a redrawn bar with files,
 * bytes, rate and ETA on a terminal; plain, periodic lines otherwise; or
 * nothing. Progress goes to stderr so that stdout stays for results.
 */
import { formatBytes, formatDuration } from "./format.ts";

export type ProgressMode = "bar" | "lines" | "silent";

/** How often a bar is redrawn, and a plain line printed. */
const BAR_INTERVAL_MS = 100;
const LINE_INTERVAL_MS = 2000;
const BAR_WIDTH = 24;

export class Progress {
  readonly #mode: ProgressMode;
  readonly #out: NodeJS.WritableStream;
  #label = "";
  #totalItems = 0;
  #totalBytes = 0;
  #items = 0;
  #bytes = 0;
  #started = 0;
  #lastDraw = 0;
  /** Whether a step is under way. */
  #active = false;
  /** Lines kept back while output is held, or null when it is not. */
  #held: string[] | null = null;

  constructor(mode: ProgressMode, out: NodeJS.WritableStream = process.stderr) {
    this.#mode = mode;
    this.#out = out;
  }

  /**
   * Keeps output back until `release`: work may start before it is known
   * to be wanted (a deploy hashes while the platform checks its token), and
   * if it is not, the error should be all that is printed.
   */
  hold(): void {
    this.#held ??= [];
  }

  /** Prints what was kept back, and the step under way. */
  release(): void {
    const lines = this.#held;
    this.#held = null;
    for (const line of lines ?? []) {
      this.#write(line);
    }
    if (lines && this.#active) {
      this.#draw(true);
    }
  }

  /** Prints a line of its own (above the bar, if one is drawn). */
  note(line: string): void {
    this.#write(line);
  }

  /** Starts a step of `items` things and `bytes` bytes. */
  start(label: string, items: number, bytes: number): void {
    this.#label = label;
    this.#totalItems = items;
    this.#totalBytes = bytes;
    this.#items = 0;
    this.#bytes = 0;
    this.#started = Date.now();
    this.#lastDraw = 0;
    this.#active = true;
    if (this.#mode === "lines") {
      this.#write(`${label}: ${items} file(s), ${formatBytes(bytes)}`);
    }
    this.#draw(true);
  }

  /** Counts progress; `bytes` may be negative when a retry starts over. */
  advance(items: number, bytes: number): void {
    this.#items += items;
    this.#bytes += bytes;
    this.#draw(false);
  }

  /** Ends the step with a summary line. */
  finish(summary: string): void {
    this.#active = false;
    this.#write(summary);
  }

  /** Writes a line above the bar, or keeps it back while output is held. */
  #write(line: string): void {
    if (this.#mode === "silent") {
      return;
    }
    if (this.#held) {
      this.#held.push(line);
      return;
    }
    this.#clear();
    this.#out.write(`${line}\n`);
  }

  #draw(force: boolean): void {
    const now = Date.now();
    const interval = this.#mode === "bar" ? BAR_INTERVAL_MS : LINE_INTERVAL_MS;
    if (this.#mode === "silent" || this.#held || (!force && now - this.#lastDraw < interval)) {
      return;
    }
    this.#lastDraw = now;
    const elapsed = (now - this.#started) / 1000;
    const rate = elapsed > 0 ? this.#bytes / elapsed : 0;
    const eta = rate > 0 ? (this.#totalBytes - this.#bytes) / rate : Number.POSITIVE_INFINITY;
    const counts =
      `${this.#items}/${this.#totalItems} files · ${formatBytes(this.#bytes)}/${formatBytes(this.#totalBytes)}` +
      ` · ${formatBytes(rate)}/s · ETA ${formatDuration(eta)}`;
    if (this.#mode === "lines") {
      if (!force) {
        this.#out.write(`${this.#label}: ${counts}\n`);
      }
      return;
    }
    const fraction = this.#totalBytes > 0 ? Math.min(1, Math.max(0, this.#bytes / this.#totalBytes)) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    this.#out.write(`\r\x1b[K${this.#label} ${bar} ${counts}`);
  }

  #clear(): void {
    if (this.#mode === "bar") {
      this.#out.write("\r\x1b[K");
    }
  }
}
