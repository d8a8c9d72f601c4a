/** The control host's own pages. */
export function serveConsole(request: Request): Response {
  const url = new URL(request.url);
  return Response.json({ service: "r2-assets", api: `${url.origin}/api/` });
}
