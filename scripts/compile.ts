/**
 * `deno task compile [target…]`: builds the single `ssmssh` executable for every release target
 * (or the ones named) into dist/, with SHA256SUMS. Needs the internet: `deno compile` downloads
 * the runtime for each target. Offline, `deno task bundle` proves the module graph is closed.
 * @module
 */

import { PERMISSIONS, TARGETS, V8_FLAGS } from "./targets.ts";

const wanted = Deno.args.length > 0 ? Deno.args : [...TARGETS];
await Deno.mkdir("dist", { recursive: true });
const sums: string[] = [];
for (const target of wanted) {
  if (!(TARGETS as readonly string[]).includes(target)) {
    console.error(`Unknown target ${target}; expected one of: ${TARGETS.join(", ")}`);
    Deno.exit(2);
  }
  const output = `dist/ssmssh-${target}${target.includes("windows") ? ".exe" : ""}`;
  const args = ["compile", "--quiet", "--no-check", V8_FLAGS, ...PERMISSIONS, "--target", target];
  const status = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--output", output, "main.ts"],
  }).spawn().status;
  if (!status.success) Deno.exit(status.code || 1);
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(output));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  sums.push(`${hex}  ${output.slice("dist/".length)}`);
  console.log(`built ${output}`);
}
await Deno.writeTextFile("dist/SHA256SUMS", sums.join("\n") + "\n");
console.log("wrote dist/SHA256SUMS");
