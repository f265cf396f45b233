/**
 * Which HTTP proxy to use for a URL, from the usual environment variables: HTTPS_PROXY for
 * https/wss, HTTP_PROXY for http/ws (lower-case forms too), and NO_PROXY exceptions.
 *
 * @example
 * ```ts
 * proxyFor(new URL("wss://ssmmessages.eu-west-1.amazonaws.com/v1/…"), (n) => Deno.env.get(n));
 * ```
 * @module
 */

/** Returns the proxy URL to tunnel `target` through, or undefined to connect directly. */
export function proxyFor(target: URL, env: (name: string) => string | undefined): URL | undefined {
  const secure = target.protocol === "wss:" || target.protocol === "https:";
  const names = secure ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"];
  const value = names.map(env).find((v) => v !== undefined && v.trim() !== "");
  if (!value) return undefined;
  const noProxy = env("NO_PROXY") ?? env("no_proxy") ?? "";
  if (bypasses(target, noProxy)) return undefined;
  const proxy = new URL(value.includes("://") ? value : `http://${value}`);
  if (proxy.protocol !== "http:") {
    throw new Error(`Cannot use proxy ${proxy.protocol}//${proxy.host}: only http:// proxies work`);
  }
  return proxy;
}

/** NO_PROXY: `*`, or a comma/space list of hosts, `.suffix` or `suffix` domains, `host:port`. */
export function bypasses(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port || defaultPort(target.protocol);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const [pattern, entryPort] = splitHostPort(entry);
    if (entryPort && entryPort !== port) continue;
    const domain = pattern.replace(/^\*?\./, "");
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** The port a ws/wss/http/https URL uses when none is written. */
export function defaultPort(protocol: string): string {
  return protocol === "wss:" || protocol === "https:" ? "443" : "80";
}

function splitHostPort(entry: string): [string, string | undefined] {
  const ipv6 = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (ipv6) return [ipv6[1], ipv6[2]];
  const m = /^([^:]+):(\d+)$/.exec(entry);
  return m ? [m[1], m[2]] : [entry, undefined];
}
