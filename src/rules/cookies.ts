/**
 * Cookies stay with the host that set them. Every project is served under
 * the platform's domain, so a `Domain` attribute naming a parent (the
 * platform's root, say) would hand the cookie to every other project and
 * to the control plane. As hosting platforms do (pages.dev, netlify.app
 * and vercel.app are on the Public Suffix List), a project may only set
 * cookies for its own host: any other `Domain` is removed, which leaves
 * the cookie host-only. Pure.
 */

/** `cookie` (a Set-Cookie value) without a Domain attribute that reaches beyond `host`. */
export function confineCookie(cookie: string, host: string): string {
  const own = host.toLowerCase().replace(/\.$/, "");
  const parts = cookie.split(";");
  const kept = parts.filter((part, index) => {
    if (index === 0) {
      return true;
    }
    const [name = "", value = ""] = part.split("=", 2);
    if (name.trim().toLowerCase() !== "domain") {
      return true;
    }
    return value.trim().toLowerCase().replace(/^\./, "").replace(/\.$/, "") === own;
  });
  return kept.length === parts.length ? cookie : kept.join(";");
}

/** Confines every Set-Cookie header of `headers` to `host` (see confineCookie). */
export function confineCookies(headers: Headers, host: string): void {
  const cookies = headers.getSetCookie();
  const confined = cookies.map((cookie) => confineCookie(cookie, host));
  if (confined.some((cookie, index) => cookie !== cookies[index])) {
    headers.delete("set-cookie");
    for (const cookie of confined) {
      headers.append("set-cookie", cookie);
    }
  }
}
