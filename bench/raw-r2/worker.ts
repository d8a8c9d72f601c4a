/**
 * Plain R2, with nothing in between but this Worker: what the benchmark
 * measures r2-assets against.
 *
 *   PUT  /<key>                              one streamed put
 *   POST /<key>?uploads                      start a multipart upload
 *   PUT  /<key>?uploadId=<id>&partNumber=<n> one part
 *   POST /<key>?uploadId=<id>                complete it (body: the parts)
 *   GET  /<key>                              stream the object back (a Range header is honoured)
 *   GET  /spa/<path>                         site/<path>, or site/index.html if there is none:
 *                                            a single-page app's fallback
 */
interface Env {
  BLOBS: R2Bucket;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    const uploadId = url.searchParams.get("uploadId");
    if (key === "health") {
      return new Response("ok");
    }
    if (request.method === "POST" && url.searchParams.has("uploads")) {
      return Response.json({ uploadId: (await env.BLOBS.createMultipartUpload(key)).uploadId });
    }
    if (request.method === "PUT" && uploadId !== null && request.body) {
      const upload = env.BLOBS.resumeMultipartUpload(key, uploadId);
      return Response.json(await upload.uploadPart(Number(url.searchParams.get("partNumber")), request.body));
    }
    if (request.method === "POST" && uploadId !== null) {
      const parts = await request.json<R2UploadedPart[]>();
      const object = await env.BLOBS.resumeMultipartUpload(key, uploadId).complete(parts);
      return Response.json({ size: object.size });
    }
    if (request.method === "PUT" && request.body) {
      const object = await env.BLOBS.put(key, request.body);
      return Response.json({ size: object?.size });
    }
    if (key.startsWith("spa/")) {
      const object = (await env.BLOBS.get(`site/${key.slice(4)}`)) ?? (await env.BLOBS.get("site/index.html"));
      return object ? new Response(object.body) : new Response("not found", { status: 404 });
    }
    const ranged = request.headers.has("range");
    const object = await env.BLOBS.get(key, ranged ? { range: request.headers } : {});
    if (!object) {
      return new Response("not found", { status: 404 });
    }
    if (ranged && object.range && "offset" in object.range && object.range.offset !== undefined) {
      const { offset, length = object.size - offset } = object.range;
      return new Response(object.body, {
        status: 206,
        headers: { "content-range": `bytes ${offset}-${offset + length - 1}/${object.size}` },
      });
    }
    return new Response(object.body, { headers: { "content-length": String(object.size) } });
  },
} satisfies ExportedHandler<Env>;
