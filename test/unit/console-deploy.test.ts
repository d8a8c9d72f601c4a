/** The console's folder deploy lists files with the content types the CLI gives them. */
import { describe, expect, it } from "vitest";
import { contentTypeFor } from "../../src/cli/content-type.ts";
// @ts-expect-error: a plain script served to browsers, without types.
import { CONTENT_TYPES, contentTypeOf } from "../../src/console/console-types.js";

describe("the console's content types", () => {
  it("agree with the CLI's for every extension the console knows", () => {
    const table = CONTENT_TYPES as Record<string, string>;
    expect(Object.keys(table).length).toBeGreaterThan(30);
    for (const [extension, type] of Object.entries(table)) {
      expect({ extension, type }).toEqual({ extension, type: contentTypeFor(`/file.${extension}`) });
    }
  });

  it("go by the last extension, in any case, and fall back as the CLI does", () => {
    const of = contentTypeOf as (path: string) => string;
    expect(of("assets/app.Abc123.JS")).toBe(contentTypeFor("/assets/app.Abc123.js"));
    expect(of("README")).toBe("application/octet-stream");
    expect(of("data.unknownext")).toBe(contentTypeFor("/data.unknownext"));
  });
});
