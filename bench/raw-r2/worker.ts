/**
 * Plain R2, with nothing in between but this Worker: what the benchmark
 * measures r2-assets against.
 *
 *   PUT  /<key>                              one streamed put
 *   POST /<key>?uploads                      start a multipart upload
 *   PUT  /<key>?uploadId=<id>&partNumber=<n> one part
 *   POST /<key>?uploadId=<id>                complete it (body: the parts)
 *   GET  /<key>                              stream the object back
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
    const object = await env.BLOBS.get(key);
    if (!object) {
      return new Response("not found", { status: 404 });
    }
    return new Response(object.body, { headers: { "content-length": String(object.size) } });
  },
} satisfies ExportedHandler<Env>;
