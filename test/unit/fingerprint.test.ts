/**
 * Which names carry a content fingerprint, and so may be cached as
 * immutable for a year (#11, #26). Built from what bundlers and frameworks
 * write (real output, with the tool and version that wrote it), and from
 * what ordinary file names look like. When in doubt the answer is no: a
 * wrong "no" costs a revalidation, a wrong "yes" serves stale bytes for a
 * year.
 */
import { describe, it } from "vitest";
import { hashedOutputs } from "../../src/cli/hashed.ts";
import { compileHashedFiles, hashedDirectories, isFingerprinted } from "../../src/rules/fingerprint.ts";

const FINGERPRINTED: [string, string][] = [
  ["/assets/index-3f9a1c0d.js", "Vite (hex)"],
  ["/assets/index-BxP3k9aZ.js", "Vite 4+ (base64url)"],
  ["/assets/vendor-C0ZhuD2H.css", "Vite"],
  ["/assets/logo-Bq4k9Zx2.svg", "Vite asset"],
  ["/assets/Inter-Bold-CpY4pD9c.woff2", "Vite font"],
  ["/static/js/main.8e0d7a2b.js", "Create React App (webpack)"],
  ["/static/js/787.4f5e6a7b.chunk.js", "webpack chunk"],
  ["/static/css/main.a1b2c3d4.css", "webpack CSS"],
  ["/static/media/logo.6ce24c58023cc2f8caa9.svg", "webpack asset (hex 20)"],
  ["/runtime~main.a1b2c3d4.js", "webpack runtime"],
  ["/main.8e0d7a2b1c.chunk.js", "webpack contenthash:10"],
  ["/js/app.3f9a1c0d.js", "Vue CLI"],
  ["/index.975ef6c8.js", "Parcel"],
  ["/styles.4c2e1f0a.css", "Parcel CSS"],
  ["/chunk-3FJ4K2LQ.js", "esbuild chunk"],
  ["/app-7GHK2M4Q.js", "esbuild entry"],
  ["/_next/static/chunks/main-9b3f2c1a8d7e6f5a.js", "Next.js"],
  ["/_next/static/chunks/pages/_app-8a7b6c5d4e3f2a1b.js", "Next.js page"],
  ["/_next/static/css/4e9b2c1a3d5f6e7a.css", "Next.js CSS"],
  ["/_next/static/Xy7_a8bK2LmN0pQrStUvW/_buildManifest.js", "Next.js build id"],
  ["/_astro/index.Bx3kP9aZ.js", "Astro"],
  ["/_astro/about.C8mQ2pQk.css", "Astro CSS"],
  ["/_astro/hoisted.DGD7uQH4.js", "Astro hoisted"],
  ["/main.3f9a1c0d2b4e6f8a.js", "Angular (hex 16)"],
  ["/styles.a1b2c3d4e5f6a7b8.css", "Angular styles"],
  ["/polyfills-FFHMD2TL.js", "Angular 17 (esbuild)"],
  ["/css/style.min.9a2b3c4d5e6f708192a3b4c5d6e7f80910a1b2c3d4e5f60718293a4b5c6d7e8f.css", "Hugo (sha256)"],
  ["/js/main.5d41402abc4b2a76b9719d911017c592.js", "Hugo (md5)"],
  ["/_app/immutable/entry/start.BxP3k9aZ.js", "SvelteKit"],
  ["/_app/immutable/chunks/index.js", "SvelteKit immutable directory"],
  ["/app-3f9a1c0d2b4e6f8a9b0c.js", "Gatsby"],
  ["/component---src-pages-index-js-4e5f6a7b8c9d0e1f2a3b.js", "Gatsby page"],
  ["/_nuxt/entry.3f9a1c0d.js", "Nuxt"],
  ["/_nuxt/Bq4k9Zx2.js", "Nuxt 3 (hash only)"],
  ["/build/_shared/chunk-2XQ7N4LK.js", "Remix (esbuild)"],
  ["/static/media/logo.5d41402abc4b2a76.svg", "hashed image"],
  ["/assets/index-BxP3k9aZ.js.map", "source map of a hashed file"],
  ["/_astro/Layout.astro_astro_type_script_index_0_lang.js", "Astro's own directory"],
  ["/_nuxt/error-404.vue.js", "Nuxt's own directory"],
  ["/assets/index-CpQ1mzEE.js", "Vite 7.3.8"],
  ["/assets/m1-ESflvG6l.js", "Vite 7.3.8 chunk"],
  ["/assets/m32-mOvvb2zb.js", "Vite 7.3.8 chunk"],
  ["/assets/m4-D4L6y-Y9.js", "Vite 7.3.8: - inside the hash"],
];

const NOT_FINGERPRINTED: [string, string][] = [
  ["/index.html", "HTML"],
  ["/assets/index-3f9a1c0d.html", "HTML, even hashed"],
  ["/about.html", "HTML"],
  ["/app.js", "plain name"],
  ["/main.js", "plain name"],
  ["/styles.css", "plain name"],
  ["/app.bundle.js", "bundle without hash"],
  ["/service-worker.js", "service worker"],
  ["/sw.js", "service worker"],
  ["/my-component.js", "words"],
  ["/jquery-3.6.0.min.js", "library version"],
  ["/bootstrap-5.3.2.bundle.min.js", "library version"],
  ["/font-awesome-4.7.0.css", "library version"],
  ["/hero-image-2x.png", "density"],
  ["/annual-report-2024.pdf", "year"],
  ["/user-guide-v2.pdf", "version"],
  ["/roboto-v30-latin.woff2", "font version and subset"],
  ["/inter-latin-400-normal.woff2", "font weight"],
  ["/Roboto-Regular.ttf", "font style"],
  ["/OpenSans-BoldItalic.woff2", "font style"],
  ["/logo-1024x768.png", "dimensions"],
  ["/favicon-32x32.png", "icon size"],
  ["/apple-touch-icon-180x180.png", "icon size"],
  ["/android-chrome-512x512.png", "icon size"],
  ["/banner-1920x1080.webp", "dimensions"],
  ["/thumbnail_200x200.jpg", "dimensions"],
  ["/photo-20241201.jpg", "date"],
  ["/IMG_20241201_123456.jpg", "camera name"],
  ["/screenshot-2024-01-01.png", "date"],
  ["/data-2024-q1.csv", "period"],
  ["/document-12345678.pdf", "number, not a hash"],
  ["/invoice_98765432.pdf", "number"],
  ["/deadbeef.txt", "hex-looking word"],
  ["/cafebabe.png", "hex-looking word"],
  ["/facade12.css", "word and number"],
  ["/12345abc.js", "number and word"],
  ["/video-1080p.mp4", "resolution"],
  ["/podcast-episode-42.mp3", "episode number"],
  ["/messages.de-DE.json", "language tag"],
  ["/locales/en-US.json", "language tag"],
  ["/zh-Hant-TW.json", "language tag"],
  ["/HTML5Logo.png", "acronym and word"],
  ["/Win11Pro.png", "words and number"],
  ["/Photo2024Summer.jpg", "words and year"],
  ["/iPhone15Pro.png", "product name"],
  ["/robots.txt", "well-known file"],
  ["/sitemap-0.xml", "sitemap index"],
  ["/manifest.webmanifest", "well-known file"],
  ["/favicon.ico", "well-known file"],
  ["/readme-first.txt", "words"],
  ["/typescript-5.3.3.tgz", "package version"],
  ["/report-final-version.pdf", "words"],
  ["/BACKUP.ZIP", "upper-case word"],
  ["/README2024.md", "word and year"],
  ["/ISO27001.pdf", "standard and number"],
  ["/assets/icon-Settings.svg", "a word where Vite writes hashes (public/ copied into dist/assets)"],
  ["/theme-Darkmode.css", "words"],
  ["/icons/arrow-backward.svg", "words"],
  ["/assets/user-guide-v2.pdf", "words and a version"],
];

/**
 * A default Vite 7.3.8 build (`vite build --manifest`) of 60 lazily
 * imported modules and a style sheet, with `public/assets/icon-Settings.svg`
 * copied into the same folder: every name it wrote. About a quarter of
 * Rollup's hashes have no digit, or an upper-case letter only, or `-`/`_`:
 * those are recognised by where they stand in a folder of hashed names.
 */
const VITE_BUILD = `index-CpQ1mzEE.js index-W1erjkBN.css m1-ESflvG6l.js m10-DBGHPJDR.js m11-Dv1VBvXn.js
m12-BN1X9RQp.js m13-CfTfPogy.js m14-DTofAnil.js m15-CH_73XN2.js m16-DN7wveXe.js m17-DOH8yqXK.js m18-C-F6kQK0.js
m19-BVGgI0hW.js m2-BPXet0sd.js m20-CqZLU8Ld.js m21-BJ7kBhKc.js m22-B6UlGeyv.js m23-DHx7_H-j.js m24-BEQx-8e8.js
m25-CRvkADxG.js m26-BVx7Na3g.js m27-CHQ-Vx9W.js m28-CGpxdwnv.js m29-Debkv6ZD.js m3-CctwPzJN.js m30-BK0saWeq.js
m31-Ds3WZZBv.js m32-mOvvb2zb.js m33-BxCWHr0v.js m34-BRbKbKct.js m35-DVqlq-G9.js m36-KFGG7Kzg.js m37-CuY2skzh.js
m38-DhFNhayN.js m39-CkSUb6Kk.js m4-D4L6y-Y9.js m40-DMXKFMzH.js m41-DwZr_tmi.js m42-CsJpTbfX.js m43-CqzhNkgo.js
m44-CIQ5MuXz.js m45-DeY3_yJM.js m46-Ck_QZHBA.js m47-0Ypw4igY.js m48-D1RpuFMm.js m49-MLDQNGj6.js m5-xj12IZWQ.js
m50-DjydYlV-.js m51-DiJCVCAI.js m52-BuRNvmab.js m53-BB3PD90N.js m54-BUdjUV2-.js m55-BWE3BrRR.js m56-BysvOmt1.js
m57-6GWBTvHl.js m58-DwBnSp8I.js m59-B4_3fKcr.js m6-Cyq-f7Nc.js m60-DEqxHBOf.js m7-eHjhs7cQ.js m8-BpQNcbXj.js
m9-B22sEVnz.js`
  .split(/\s+/)
  .map((name) => `/assets/${name}`);

describe("content fingerprints", () => {
  it(`are recognized in ${FINGERPRINTED.length} names bundlers write`, ({ expect }) => {
    for (const [path, source] of FINGERPRINTED) {
      expect(isFingerprinted(path), `${path} (${source})`).toBe(true);
    }
  });

  it(`are not seen in ${NOT_FINGERPRINTED.length} ordinary names`, ({ expect }) => {
    for (const [path, what] of NOT_FINGERPRINTED) {
      expect(isFingerprinted(path), `${path} (${what})`).toBe(false);
    }
  });

  it("are every hashed name of a default Vite build, where the build shows its hash position", ({ expect }) => {
    const paths = [...VITE_BUILD, "/assets/icon-Settings.svg", "/index.html", "/favicon.ico"];
    const hashed = compileHashedFiles({ directories: hashedDirectories(paths), files: [] });
    expect([...hashed.directories]).toEqual(["/assets/"]);
    expect(VITE_BUILD.filter((path) => !isFingerprinted(path, hashed))).toEqual([]);
    for (const path of ["/assets/icon-Settings.svg", "/index.html", "/favicon.ico"]) {
      expect(isFingerprinted(path, hashed), path).toBe(false);
    }
    // By name alone, without what the deploy showed, some of them are not believed.
    expect(VITE_BUILD.filter((path) => !isFingerprinted(path)).length).toBeGreaterThan(0);
  });

  it("are VitePress's `[name].[hash]` names, with the folder's evidence", ({ expect }) => {
    // From the report of a VitePress site: 16 of 28 were believed by name alone.
    const paths = ["/assets/style.BhX5jokk.css", "/assets/app.BV8Zwmfu.js", "/assets/guide_index.md.C8mQ2pQk.js"];
    expect(isFingerprinted("/assets/app.BV8Zwmfu.js")).toBe(false);
    const hashed = compileHashedFiles({ directories: hashedDirectories(paths), files: [] });
    expect(paths.filter((path) => !isFingerprinted(path, hashed))).toEqual([]);
  });

  it("are taken from a build manifest whatever the names", ({ expect }) => {
    const hashed = compileHashedFiles({ directories: [], files: ["/static/app.js"] });
    expect(isFingerprinted("/static/app.js", hashed)).toBe(true);
    expect(isFingerprinted("/static/app.js")).toBe(false);
  });

  it("need evidence from at least two names of a folder", ({ expect }) => {
    expect(hashedDirectories(["/a/x-Ab1cD2eF.js", "/b/y-Gh3iJ4kL.js", "/b/z-Mn5oP6qR.js"])).toEqual(["/b/"]);
    expect(hashedDirectories(["/docs/user-guide-v2.pdf", "/docs/index.html", "/docs/logo-1024x768.png"])).toEqual([]);
  });

  it("come from a table of at least 60 real names", ({ expect }) => {
    expect(FINGERPRINTED.length + NOT_FINGERPRINTED.length).toBeGreaterThanOrEqual(60);
  });
});

describe("build manifests", () => {
  it("name their hashed outputs as served paths: Vite's and webpack's", ({ expect }) => {
    expect(
      hashedOutputs({
        "index.html": {
          file: "assets/index-CpQ1mzEE.js",
          css: ["assets/index-W1erjkBN.css"],
          assets: ["assets/a.png"],
        },
        "src/page.ts": { file: "assets/page-x.js" },
        _shared: { file: "assets/shared.js" },
      }).toSorted(),
    ).toEqual([
      "/assets/a.png",
      "/assets/index-CpQ1mzEE.js",
      "/assets/index-W1erjkBN.css",
      "/assets/page-x.js",
      "/assets/shared.js",
    ]);
    expect(
      hashedOutputs({
        files: { "main.js": "/static/js/main.8e0d7a2b.js", "index.html": "/index.html" },
        entrypoints: ["static/js/main.8e0d7a2b.js"],
      }),
    ).toEqual(["/static/js/main.8e0d7a2b.js"]);
    for (const other of [null, [], "x", { name: "app", icons: [] }, { files: ["a.js"] }]) {
      expect(hashedOutputs(other), JSON.stringify(other)).toEqual([]);
    }
  });
});
