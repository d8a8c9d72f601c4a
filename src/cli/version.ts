/** The CLI's version, as its package (packages/cli/package.json) states it. */
export const VERSION = "0.1.0";
