/**
 * How a bundling failure is reported to the user who deployed. esbuild reports "Build failed with N errors:" and then one error per line,
 * naming files in its virtual file system; the deploy reports them on one
 * line with the file names as the user wrote them.
 */
export function oneLine(message: string): string {
  return message
    .replace(/^Build failed with \d+ errors?:\s*/, "")
    .replace(/\bvirtual:/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ");
}
