export function hello(greeting: string): Response {
  return Response.json({ message: `${greeting} from the server code`, at: new Date().toISOString() });
}

export function notFound(path: string): Response {
  return Response.json({ error: `no API route ${path}` }, { status: 404 });
}
