/**
 * Which files carry a content fingerprint in their names, and so are
 * served as immutable for a year. A wrong "no" costs a revalidation on
 * every view; a wrong "yes" serves stale bytes for a year. So:
 *
 * 1. By name alone, only what no word looks like: webpack, Parcel,
 *    Angular, Gatsby and Hugo hex; esbuild's upper-case [HASH8]; and the
 *    eight base64url characters Rollup, Vite, Astro and Nuxt write at the
 *    end of a name (`[name]-[hash]`, VitePress `[name].[hash]`) when they
 *    mix cases and digits. HTML never is.
 * 2. Whole directories a framework owns, whose every file it names by
 *    content: `/_next/static/`, `/_app/immutable/`, `/_astro/`, `/_nuxt/`.
 * 3. What a deploy shows: in a directory where the bundler's hash position
 *    holds at least MIN_EVIDENCE names of type 1, every name with a hash
 *    in that position is fingerprinted unless it reads as words
 *    (`icon-Settings.svg`, copied from a `public/` folder, is not). Rollup's
 *    hashes need no digit and may hold `-` and `_`; this is how those are
 *    recognised. `hashedDirectories` finds such directories at deploy.
 * 4. What the build says: files a build manifest (Vite's, webpack's
 *    asset-manifest.json) lists as its hashed outputs, given at deploy.
 * Pure.
 */

/** What a deploy recorded about its hashed files (a version's `hashed` config). */
export interface HashedFiles {
  /** Directories (`/assets/`) where the bundler's hash position is believed (3 above). */
  directories: string[];
  /** Files a build manifest lists (4 above). */
  files: string[];
}

/** Directories whose every file a framework names by content. */
const FRAMEWORK_DIRECTORIES = /^\/(?:_next\/static|_app\/immutable|_astro|_nuxt)\//;

/** Names of type 1 a directory needs before its names of type 3 are believed. */
export const MIN_EVIDENCE = 2;

/** Whether `path` is served immutable, given what its version's deploy recorded. */
export function isFingerprinted(path: string, hashed?: CompiledHashedFiles): boolean {
  if (path.endsWith(".html")) {
    return false;
  }
  if (FRAMEWORK_DIRECTORIES.test(path) || hashed?.files.has(path)) {
    return true;
  }
  const { directory, stem } = split(path);
  if (stem.split(/[.\-_~]/).some(isHashToken) || isRandomToken(positionalToken(stem))) {
    return true;
  }
  const token = positionalToken(stem);
  return token !== null && (hashed?.directories.has(directory) ?? false) && !readsAsWords(token);
}

/** A deploy's HashedFiles, as sets. */
export interface CompiledHashedFiles {
  directories: ReadonlySet<string>;
  files: ReadonlySet<string>;
}

export function compileHashedFiles(hashed: HashedFiles | undefined): CompiledHashedFiles {
  return { directories: new Set(hashed?.directories ?? []), files: new Set(hashed?.files ?? []) };
}

/** Directories (`/assets/`) whose names show a bundler's hash position (see 3 above). */
export function hashedDirectories(paths: Iterable<string>): string[] {
  const evidence = new Map<string, number>();
  for (const path of paths) {
    const { directory, stem } = split(path);
    if (!path.endsWith(".html") && isRandomToken(positionalToken(stem))) {
      evidence.set(directory, (evidence.get(directory) ?? 0) + 1);
    }
  }
  return [...evidence]
    .filter(([, count]) => count >= MIN_EVIDENCE)
    .map(([directory]) => directory)
    .toSorted();
}

/** A path's directory (with its trailing slash) and its file name without the last extension. */
function split(path: string): { directory: string; stem: string } {
  const slash = path.lastIndexOf("/");
  const name = path.slice(slash + 1);
  // A source map is named after its file: index-Ab12Cd34.js.map.
  const base = name.endsWith(".map") ? name.slice(0, -4) : name;
  const dot = base.lastIndexOf(".");
  return { directory: path.slice(0, slash + 1), stem: dot > 0 ? base.slice(0, dot) : base };
}

/** The eight characters a Rollup-style bundler writes after `[name]-` or `[name].`, if there are such. */
function positionalToken(stem: string): string | null {
  if (stem.length === 8 && /^[A-Za-z0-9_-]{8}$/.test(stem)) {
    // Nuxt's `[hash].js`.
    return stem;
  }
  const separator = stem.length - 9;
  if (separator < 1 || (stem[separator] !== "-" && stem[separator] !== ".")) {
    return null;
  }
  const token = stem.slice(separator + 1);
  return /^[A-Za-z0-9_-]{8}$/.test(token) ? token : null;
}

/** A hash position's token that no word looks like: both cases and a digit, in no word-like order. */
function isRandomToken(token: string | null): boolean {
  if (token === null) {
    return false;
  }
  const letters = token.replace(/[-_]/g, "");
  return (
    /[0-9]/.test(letters) &&
    /[A-Z]/.test(letters) &&
    /[a-z]/.test(letters) &&
    !WORD_LIKE.test(letters) &&
    !WORD_AND_NUMBER.test(letters)
  );
}

/** Words and numbers run together: Win11Pro, HTML5Logo, iPhone15, myIconV2. */
const WORD_LIKE = /^[a-z]*(?:[A-Z][a-z]+|[A-Z]{2,}|[0-9]+|[A-Z])+$/;
/** A word and a number side by side: report2024, 2024q1. */
const WORD_AND_NUMBER = /^(?:[A-Za-z]+[0-9]+|[0-9]+[A-Za-z]+)$/;

/**
 * Whether a hash position's token reads as words (and is taken for a name,
 * not a hash, even where a bundler writes hashes): each part between `-`
 * and `_` is a number with a unit (2x, 1080p, v2), or lower-case,
 * Capitalized, camelCase or PascalCase words, each with a vowel (a random
 * token's "words" rarely have one: `CfTfPogy`, `Cqzh`).
 */
function readsAsWords(token: string): boolean {
  return token.split(/[-_]/).every((part) => {
    if (part === "" || /^v?[0-9]+[a-z]{0,2}$/.test(part)) {
      return true;
    }
    if (!/^(?:[a-z]+|[A-Z][a-z]+)(?:[A-Z][a-z]+)*$/.test(part)) {
      return false;
    }
    return (part.match(/[A-Z]?[a-z]+/g) ?? []).every((word) => /[aeiouy]/i.test(word));
  });
}

function isHashToken(token: string): boolean {
  const digits = (token.match(/[0-9]/g) ?? []).length;
  if (/^[0-9a-f]{8,}$/.test(token)) {
    // Hex: letters and digits both.
    return digits > 0 && digits < token.length && (token.length >= 16 || !WORD_AND_NUMBER.test(token));
  }
  if (/^[A-Z0-9]{8}$/.test(token)) {
    // esbuild's upper-case base32.
    return digits > 0 && !WORD_AND_NUMBER.test(token);
  }
  if (/^[A-Za-z0-9]{8,12}$/.test(token)) {
    // Mixed case and a digit, and not words, acronyms and numbers run together (Win11Pro, HTML5Logo, iPhone15).
    const wordLike = /^[a-z]*(?:[A-Z][a-z]+|[A-Z]{2,}|[0-9]+)+$/.test(token);
    return digits > 0 && /[A-Z]/.test(token) && /[a-z]/.test(token) && !wordLike && !WORD_AND_NUMBER.test(token);
  }
  return false;
}
