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

  constructor(mode: ProgressMode, out: NodeJS.WritableStream = process.stderr) {
    this.#mode = mode;
    this.#out = out;
  }

  /** Prints a line of its own (above the bar, if one is drawn). */
  note(line: string): void {
    if (this.#mode === "silent") {
      return;
    }
    this.#clear();
    this.#out.write(`${line}\n`);
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
    if (this.#mode === "lines") {
      this.#out.write(`${label}: ${items} file(s), ${formatBytes(bytes)}\n`);
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
    this.#clear();
    if (this.#mode !== "silent") {
      this.#out.write(`${summary}\n`);
    }
  }

  #draw(force: boolean): void {
    const now = Date.now();
    const interval = this.#mode === "bar" ? BAR_INTERVAL_MS : LINE_INTERVAL_MS;
    if (this.#mode === "silent" || (!force && now - this.#lastDraw < interval)) {
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
