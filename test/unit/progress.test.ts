import { Writable } from "node:stream";
import { describe, it } from "vitest";
import { Progress } from "../../src/cli/progress.ts";

function capture(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe("Progress", () => {
  it("draws a bar with files, bytes, rate and ETA on a terminal", ({ expect }) => {
    const out = capture();
    const progress = new Progress("bar", out.stream);
    progress.start("Uploading", 4, 4_000_000);
    progress.advance(2, 2_000_000);
    progress.finish("Uploaded 4 files");
    expect(out.text()).toMatch(/\r\x1b\[KUploading [█░]{24} 0\/4 files · 0 B\/4\.0 MB · 0 B\/s · ETA --/);
    expect(out.text()).toMatch(/Uploaded 4 files\n$/);
  });

  it("prints plain lines when not on a terminal", ({ expect }) => {
    const out = capture();
    const progress = new Progress("lines", out.stream);
    progress.start("Hashing", 3, 1500);
    progress.advance(3, 1500);
    progress.finish("Hashed 3 file(s), 1.5 KB");
    expect(out.text()).toBe("Hashing: 3 file(s), 1.5 KB\nHashed 3 file(s), 1.5 KB\n");
    expect(out.text()).not.toMatch(/\x1b/);
  });

  it("prints nothing when silent", ({ expect }) => {
    const out = capture();
    const progress = new Progress("silent", out.stream);
    progress.start("Hashing", 1, 1);
    progress.note("note");
    progress.finish("done");
    expect(out.text()).toBe("");
  });

  it("keeps output back while held: printed in order on release, never if not released", ({ expect }) => {
    const out = capture();
    const progress = new Progress("lines", out.stream);
    progress.hold();
    progress.start("Hashing", 2, 20);
    progress.advance(2, 20);
    progress.finish("Hashed 2 file(s)");
    progress.start("Uploading", 1, 10);
    expect(out.text()).toBe("");
    progress.release();
    progress.note("a note");
    expect(out.text()).toBe("Hashing: 2 file(s), 20 B\nHashed 2 file(s)\nUploading: 1 file(s), 10 B\na note\n");

    const unwanted = capture();
    const held = new Progress("bar", unwanted.stream);
    held.hold();
    held.start("Hashing", 1, 1);
    held.advance(1, 1);
    held.note("never shown");
    expect(unwanted.text()).toBe("");
  });

  it("redraws the step under way when released on a terminal", ({ expect }) => {
    const out = capture();
    const progress = new Progress("bar", out.stream);
    progress.hold();
    progress.start("Hashing", 4, 4_000);
    progress.advance(1, 1_000);
    progress.release();
    expect(out.text()).toMatch(/^\r\x1b\[KHashing [█░]{24} 1\/4 files · 1\.0 KB\/4\.0 KB/);
  });
});
