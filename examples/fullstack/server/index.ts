// The example's server code: a Dynamic Worker with the project's files at
// env.ASSETS. It answers /api/*; everything else is the single-page app.
import { hello, notFound } from "./routes.ts";

export interface Env {
  ASSETS: Fetcher;
  GREETING?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/api/hello") {
      return hello(env.GREETING ?? "Hello");
    }
    if (url.pathname === "/api/notes") {
      // Data files are assets; the server code reads them through its binding.
      const notes = await env.ASSETS.fetch(new Request(new URL("/data/notes.json", url)));
      return new Response(notes.body, { headers: { "content-type": "application/json" } });
    }
    return notFound(url.pathname);
  },
};
