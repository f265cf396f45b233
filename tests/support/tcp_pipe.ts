/**
 * Minimal ssh ProxyCommand: pipes stdin/stdout to a TCP connection.
 *
 * Usage: `deno run --allow-net tests/support/tcp_pipe.ts HOST PORT`. A baseline that needs no AWS
 * (compare with ssmssh). Half-closes the socket on stdin EOF and exits when the server closes.
 * @module
 */

const [hostname, portText] = Deno.args;
const port = Number(portText);
if (!hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: tcp_pipe.ts HOST PORT");
  Deno.exit(2);
}

const conn = await Deno.connect({ hostname, port });
// Upstream: stdin -> socket, then half-close so the server sees EOF.
Deno.stdin.readable.pipeTo(conn.writable, { preventClose: true })
  .then(() => conn.closeWrite())
  .catch(() => {});
// Downstream: socket -> stdout; the server closing ends the pipe.
await conn.readable.pipeTo(Deno.stdout.writable).catch(() => {});
Deno.exit(0);
