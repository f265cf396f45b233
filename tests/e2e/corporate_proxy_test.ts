/**
 * Behind a corporate proxy: HTTPS_PROXY carries both the AWS API calls and the data-channel
 * websocket (HTTP CONNECT), a private CA comes from AWS_CA_BUNDLE, and NO_PROXY is honoured.
 * The emulator serves https/wss with a certificate from a throwaway CA.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { startSshd } from "../../emulator/sshd.ts";
import { startConnectProxy } from "../support/connect_proxy.ts";
import { makeTestCertificates } from "../support/tls_cert.ts";
import { sshVia } from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";

Deno.test("API calls and websocket both tunnel through HTTPS_PROXY to a TLS endpoint", async () => {
  const certs = await makeTestCertificates();
  try {
    await using emulator = await startEmulator({ tls: { cert: certs.cert, key: certs.key } });
    await using sshd = await startSshd();
    await using proxy = startConnectProxy();
    const env = {
      ...emulator.env,
      AWS_CA_BUNDLE: certs.caFile,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: "",
      no_proxy: "",
    };
    assert(emulator.url.startsWith("https://"));
    const r = await sshVia(sshd, env, INSTANCE, ["echo", "through-the-proxy"]);
    assertEquals(r, { code: 0, stdout: "through-the-proxy\n", stderr: "" });
    const api = `127.0.0.1:${emulator.port}`;
    const stream = `127.0.0.1:${emulator.streamPort}`;
    assert(proxy.tunnels.includes(api), `the API went through the proxy: ${proxy.tunnels}`);
    assert(proxy.tunnels.includes(stream), `the websocket went through it: ${proxy.tunnels}`);
    assert(proxy.tunnels.every((t) => t === api || t === stream), `${proxy.tunnels}`);
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("NO_PROXY bypasses the proxy for matching hosts", async () => {
  await using emulator = await startEmulator();
  await using sshd = await startSshd();
  await using proxy = startConnectProxy();
  const env = {
    ...emulator.env,
    HTTP_PROXY: proxy.url,
    HTTPS_PROXY: proxy.url,
    NO_PROXY: "127.0.0.1",
  };
  const r = await sshVia(sshd, env, INSTANCE, ["echo", "direct"]);
  assertEquals(r.stdout, "direct\n", r.stderr);
  assertEquals(proxy.tunnels, []);
});

Deno.test("without AWS_CA_BUNDLE the private CA is not trusted: a clear TLS error", async () => {
  const certs = await makeTestCertificates();
  try {
    await using emulator = await startEmulator({ tls: { cert: certs.cert, key: certs.key } });
    await using sshd = await startSshd();
    const r = await sshVia(sshd, { ...emulator.env, AWS_CA_BUNDLE: "" }, INSTANCE, ["true"]);
    assertEquals(r.code, 255);
    assertStringIncludes(r.stderr, "ssmssh: The TLS certificate of the AWS API was not trusted");
    assertStringIncludes(r.stderr, "hint: If a corporate proxy re-signs TLS, set AWS_CA_BUNDLE");
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});
