/**
 * Proxy selection from the environment (src/transport/proxy_env.ts): HTTPS_PROXY / HTTP_PROXY by
 * scheme, lower-case variants, and every NO_PROXY form.
 * @module
 */

import { assertEquals, assertThrows } from "../support/assert.ts";
import { bypasses, defaultPort, proxyFor } from "../../src/transport/proxy_env.ts";

const envOf = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];
const proxyHref = (url: string, vars: Record<string, string>): string | undefined =>
  proxyFor(new URL(url), envOf(vars))?.href;

const WSS = "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe";

Deno.test("proxyFor: no proxy variables means a direct connection", () => {
  assertEquals(proxyHref(WSS, {}), undefined);
  assertEquals(proxyHref("ws://127.0.0.1:8080/x", {}), undefined);
  assertEquals(proxyHref(WSS, { HTTPS_PROXY: "" }), undefined, "empty counts as unset");
  assertEquals(proxyHref(WSS, { HTTPS_PROXY: "   " }), undefined, "blank counts as unset");
});

Deno.test("proxyFor: wss/https use HTTPS_PROXY, ws/http use HTTP_PROXY", () => {
  const vars = { HTTPS_PROXY: "http://secure.proxy:3128", HTTP_PROXY: "http://plain.proxy:8080" };
  assertEquals(proxyHref(WSS, vars), "http://secure.proxy:3128/");
  assertEquals(
    proxyHref("https://ssm.eu-west-1.amazonaws.com/", vars),
    "http://secure.proxy:3128/",
  );
  assertEquals(proxyHref("ws://example.com/socket", vars), "http://plain.proxy:8080/");
  assertEquals(proxyHref("http://example.com/", vars), "http://plain.proxy:8080/");
  // Each scheme ignores the other variable.
  assertEquals(proxyHref(WSS, { HTTP_PROXY: "http://plain.proxy:8080" }), undefined);
  assertEquals(proxyHref("ws://example.com/", { HTTPS_PROXY: "http://s.proxy:1" }), undefined);
});

Deno.test("proxyFor: lower-case variants, and upper-case wins when both are set", () => {
  assertEquals(proxyHref(WSS, { https_proxy: "http://lower:1" }), "http://lower:1/");
  assertEquals(proxyHref("ws://example.com/", { http_proxy: "http://lower:2" }), "http://lower:2/");
  assertEquals(
    proxyHref(WSS, { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:1" }),
    "http://upper:1/",
  );
  // A blank upper-case value falls through to the lower-case one.
  assertEquals(
    proxyHref(WSS, { HTTPS_PROXY: " ", https_proxy: "http://lower:1" }),
    "http://lower:1/",
  );
  // no_proxy works in lower case too.
  assertEquals(
    proxyHref(WSS, { HTTPS_PROXY: "http://p:1", no_proxy: ".amazonaws.com" }),
    undefined,
  );
  // NO_PROXY wins over no_proxy when both are set.
  assertEquals(
    proxyHref(WSS, { HTTPS_PROXY: "http://p:1", NO_PROXY: "example.com", no_proxy: "*" }),
    "http://p:1/",
  );
});

Deno.test("proxyFor: a value without a scheme is http, credentials and IPv6 are kept", () => {
  assertEquals(proxyHref(WSS, { HTTPS_PROXY: "proxy.corp:3128" }), "http://proxy.corp:3128/");
  const withAuth = proxyFor(new URL(WSS), envOf({ HTTPS_PROXY: "http://us%40er:p%3Ass@p:9/" }))!;
  assertEquals([withAuth.username, withAuth.password, withAuth.host], ["us%40er", "p%3Ass", "p:9"]);
  const v6 = proxyFor(new URL(WSS), envOf({ HTTPS_PROXY: "http://[::1]:3128" }))!;
  assertEquals([v6.hostname, v6.port], ["[::1]", "3128"]);
  // Surrounding whitespace is tolerated by the URL parser.
  assertEquals(proxyHref(WSS, { HTTPS_PROXY: "  http://p:1  " }), "http://p:1/");
});

Deno.test("proxyFor: non-http proxy schemes are refused with a clear message", () => {
  for (const value of ["https://p:443", "socks5://p:1080", "socks5h://p:1080", "ftp://p"]) {
    assertThrows(
      () => proxyFor(new URL(WSS), envOf({ HTTPS_PROXY: value })),
      Error,
      "only http:// proxies work",
    );
  }
  // ...but NO_PROXY is consulted first: a bypassed host never looks at the proxy value.
  assertEquals(proxyHref(WSS, { HTTPS_PROXY: "socks5://p:1", NO_PROXY: "*" }), undefined);
});

Deno.test("NO_PROXY: `*` bypasses everything, alone or in a list", () => {
  assertEquals(bypasses(new URL(WSS), "*"), true);
  assertEquals(bypasses(new URL("ws://10.0.0.1:9/"), " * "), true);
  assertEquals(bypasses(new URL(WSS), "example.com,*"), true);
  assertEquals(bypasses(new URL(WSS), ""), false);
  assertEquals(bypasses(new URL(WSS), " , ,, "), false);
});

Deno.test("NO_PROXY: exact hosts, `.suffix`, `suffix` and `*.suffix` domains", () => {
  const host = (h: string) => new URL(`wss://${h}/x`);
  const cases: Array<[string, string, boolean]> = [
    ["ssm.amazonaws.com", "ssm.amazonaws.com", true],
    ["SSM.AmazonAWS.com", "ssm.amazonaws.com", true], // case-insensitive
    ["ssm.amazonaws.com", "SSM.AMAZONAWS.COM", true],
    ["ssmmessages.eu-west-1.amazonaws.com", ".amazonaws.com", true],
    ["amazonaws.com", ".amazonaws.com", true], // curl matches the bare domain too
    ["ssmmessages.eu-west-1.amazonaws.com", "amazonaws.com", true],
    ["ssmmessages.eu-west-1.amazonaws.com", "*.amazonaws.com", true],
    ["amazonaws.com", "*.amazonaws.com", true],
    ["notamazonaws.com", "amazonaws.com", false], // a suffix must end at a label boundary
    ["notamazonaws.com", ".amazonaws.com", false],
    ["notamazonaws.com", "*.amazonaws.com", false],
    ["amazonaws.com.evil.net", "amazonaws.com", false],
    ["ssm.amazonaws.com", "ssm.amazonaws.co", false],
    ["example.com", "ample.com", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.10", "127.0.0.1", false],
    ["localhost", "localhost", true],
  ];
  for (const [h, entry, expected] of cases) {
    assertEquals(bypasses(host(h), entry), expected, `${h} vs NO_PROXY=${entry}`);
  }
});

Deno.test("NO_PROXY: host:port entries match only that port (default ports included)", () => {
  assertEquals(bypasses(new URL("wss://h.example/"), "h.example:443"), true);
  assertEquals(bypasses(new URL("wss://h.example/"), "h.example:80"), false);
  assertEquals(bypasses(new URL("ws://h.example/"), "h.example:80"), true);
  assertEquals(bypasses(new URL("wss://h.example:8443/"), "h.example:8443"), true);
  assertEquals(bypasses(new URL("wss://h.example:8443/"), "h.example:443"), false);
  assertEquals(bypasses(new URL("wss://a.h.example:8443/"), ".h.example:8443"), true);
  assertEquals(bypasses(new URL("wss://h.example:8443/"), "h.example"), true, "no port = any port");
});

Deno.test("NO_PROXY: IPv6 literals with and without brackets and ports", () => {
  const v6 = new URL("wss://[::1]:8443/x");
  assertEquals(bypasses(v6, "::1"), true);
  assertEquals(bypasses(v6, "[::1]"), true);
  assertEquals(bypasses(v6, "[::1]:8443"), true);
  assertEquals(bypasses(v6, "[::1]:443"), false);
  assertEquals(bypasses(v6, "::2"), false);
  assertEquals(bypasses(new URL("wss://[2001:db8::1]/"), "[2001:DB8::1]:443"), true);
  assertEquals(
    proxyHref("wss://[::1]:8443/", { HTTPS_PROXY: "http://p:1", NO_PROXY: "localhost, ::1" }),
    undefined,
  );
});

Deno.test("NO_PROXY: commas, spaces, tabs and newlines all separate entries", () => {
  const target = new URL(WSS);
  for (
    const list of [
      "localhost,.amazonaws.com",
      "localhost, .amazonaws.com",
      "  localhost ,\t.amazonaws.com  ",
      "localhost .amazonaws.com",
      "localhost\n.amazonaws.com",
      ",,localhost,,,.amazonaws.com,,",
    ]
  ) {
    assertEquals(bypasses(target, list), true, JSON.stringify(list));
  }
  assertEquals(bypasses(target, "localhost, 169.254.169.254, example.com"), false);
});

Deno.test("proxyFor: NO_PROXY decides per target", () => {
  const vars = { HTTPS_PROXY: "http://corp:3128", NO_PROXY: "localhost,127.0.0.1,.internal" };
  assertEquals(proxyHref(WSS, vars), "http://corp:3128/");
  assertEquals(proxyHref("wss://127.0.0.1:9000/x", vars), undefined);
  assertEquals(proxyHref("wss://svc.internal/x", vars), undefined);
  assertEquals(proxyHref("wss://localhost:1/x", vars), undefined);
});

Deno.test("defaultPort: 443 for secure schemes, 80 otherwise", () => {
  assertEquals(
    ["wss:", "https:", "ws:", "http:"].map(defaultPort),
    ["443", "443", "80", "80"],
  );
});
