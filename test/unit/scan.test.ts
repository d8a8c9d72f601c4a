import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { scanDirectory } from "../../src/cli/scan.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "r2a-scan-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe("scanDirectory", () => {
  it("lists files as URL paths with sizes, sorted", async ({ expect }) => {
    const root = await tree({ "index.html": "<h1>", "a/b/c.txt": "abc", "a/space name.txt": "" });
    const files = await scanDirectory(root);
    expect(files.map(({ path, size }) => ({ path, size }))).toEqual([
      { path: "/a/b/c.txt", size: 3 },
      { path: "/a/space name.txt", size: 0 },
      { path: "/index.html", size: 4 },
    ]);
  });

  it("skips what .assetsignore lists, and the file itself", async ({ expect }) => {
    const root = await tree({
      ".assetsignore": "*.map\nsecret/\n!keep.map\n# comment\n",
      "app.js": "x",
      "app.js.map": "x",
      "keep.map": "x",
      "secret/key.txt": "x",
      "public/secret.txt": "x",
    });
    const paths = (await scanDirectory(root)).map((f) => f.path);
    expect(paths).toEqual(["/app.js", "/keep.map", "/public/secret.txt"]);
  });

  it("follows symbolic links without looping", async ({ expect }) => {
    const root = await tree({ "real/a.txt": "a" });
    await symlink(join(root, "real"), join(root, "link"));
    await symlink(root, join(root, "real", "loop"));
    const paths = (await scanDirectory(root)).map((f) => f.path);
    // real/loop points back at the root: followed, it would never end.
    expect(paths).toEqual(["/link/a.txt", "/real/a.txt"]);
  });

  it("refuses a file name that cannot be served, naming it", async ({ expect }) => {
    const root = await tree({ "bad\u0001name.txt": "x" });
    await expect(scanDirectory(root)).rejects.toThrow(/bad\\u0001name\.txt/);
  });

  it("refuses a path that is not a directory", async ({ expect }) => {
    await expect(scanDirectory("/nonexistent/dir")).rejects.toThrow(/not a directory/);
  });
});
