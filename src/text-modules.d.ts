/** Files bundled as text (see [[rules]] in wrangler.toml). */
declare module "*.sql" {
  const text: string;
  export default text;
}

declare module "*/console.html" {
  const text: string;
  export default text;
}

declare module "*/console.css" {
  const text: string;
  export default text;
}

/** The web console's scripts: served to browsers as they are, not run by the Worker. */
declare module "*/console.js" {
  const text: string;
  export default text;
}

declare module "*/console-deploy.js" {
  const text: string;
  export default text;
}

declare module "*/console-types.js" {
  const text: string;
  export default text;
}

declare module "*/console-hash.js" {
  const text: string;
  export default text;
}
