import { describe, it } from "vitest";
import { routeHost } from "../../src/hosts.ts";

describe("routeHost", () => {
  const cases: [string, string, ReturnType<typeof routeHost>][] = [
    ["localhost", "localhost", { kind: "control" }],
    ["127.0.0.1", "localhost", { kind: "control" }],
    ["[::1]", "localhost", { kind: "control" }],
    ["LOCALHOST", "localhost", { kind: "control" }],
    ["blog.localhost", "localhost", { kind: "project", project: "blog" }],
    ["blog.localhost.", "localhost", { kind: "project", project: "blog" }],
    ["my-site.example.com", "example.com", { kind: "project", project: "my-site" }],
    [
      "20261124-082301-123.blog.localhost",
      "localhost",
      { kind: "project", project: "blog", version: "20261124-082301-123" },
    ],
    ["example.com", "example.com", { kind: "control" }],
    ["127.0.0.1", "example.com", { kind: "control" }],
    // Any other hostname may be a custom domain: the registry says (#13).
    ["other.org", "example.com", { kind: "domain", hostname: "other.org" }],
    ["WWW.Notexample.com.", "example.com", { kind: "domain", hostname: "www.notexample.com" }],
    ["10.0.0.1", "example.com", { kind: "unknown" }],
    ["intranet", "example.com", { kind: "unknown" }],
    ["bad_name.localhost", "localhost", { kind: "unknown" }],
    ["a.b.blog.localhost", "localhost", { kind: "unknown" }],
    // A label before the project that is not a version names an alias (#13).
    ["staging.blog.localhost", "localhost", { kind: "project", project: "blog", alias: "staging" }],
    ["live.blog.localhost", "localhost", { kind: "unknown" }],
  ];
  for (const [hostname, root, expected] of cases) {
    it(`${hostname} under ${root}`, ({ expect }) => {
      expect(routeHost(hostname, root)).toEqual(expected);
    });
  }
});
