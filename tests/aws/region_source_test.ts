/**
 * Where the region comes from, in the SDK's order: --region, AWS_REGION, the profile's `region`
 * in the shared config file; AWS_DEFAULT_REGION is reported but never used.
 */

import { assertEquals } from "../support/assert.ts";
import { regionFacts } from "../../src/aws/region_source.ts";
import { SSMClient } from "@aws-sdk/client-ssm";

/** Runs `fn` with AWS_CONFIG_FILE pointing at a file holding `config` (the SDK reads the env). */
async function withConfig(config: string, fn: () => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-region-" });
  const names = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_PROFILE"];
  const saved = names.map((n) => [n, Deno.env.get(n)]);
  try {
    await Deno.writeTextFile(`${dir}/config`, config);
    Deno.env.set("AWS_CONFIG_FILE", `${dir}/config`);
    Deno.env.set("AWS_SHARED_CREDENTIALS_FILE", `${dir}/none`);
    Deno.env.delete("AWS_REGION");
    Deno.env.delete("AWS_PROFILE");
    await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
    await Deno.remove(dir, { recursive: true });
  }
}

const CONFIG = "[default]\nregion = eu-central-1\n[profile dev]\nregion = ap-south-1\n";

Deno.test("--region wins over AWS_REGION and the profile", async () => {
  await withConfig(CONFIG, async () => {
    const env = (n: string) => ({ AWS_REGION: "us-east-2" } as Record<string, string>)[n];
    assertEquals(await regionFacts({ region: "eu-west-3" }, env), {
      region: "eu-west-3",
      source: "--region",
      profile: "default",
    });
  });
});

Deno.test("AWS_REGION wins over the profile; AWS_DEFAULT_REGION is reported, not used", async () => {
  await withConfig(CONFIG, async () => {
    const vars: Record<string, string> = {
      AWS_REGION: "us-east-2",
      AWS_DEFAULT_REGION: "sa-east-1",
    };
    assertEquals(await regionFacts({}, (n) => vars[n]), {
      region: "us-east-2",
      source: "AWS_REGION",
      profile: "default",
      defaultRegionEnv: "sa-east-1",
    });
  });
});

Deno.test("the profile's region: --profile, then AWS_PROFILE, then default", async () => {
  await withConfig(CONFIG, async () => {
    assertEquals(await regionFacts({ profile: "dev" }, () => undefined), {
      region: "ap-south-1",
      source: "profile",
      profile: "dev",
    });
    const vars: Record<string, string> = { AWS_PROFILE: "dev" };
    assertEquals((await regionFacts({}, (n) => vars[n])).region, "ap-south-1");
    assertEquals((await regionFacts({}, () => undefined)).region, "eu-central-1");
    // The same answers as the SDK's own region chain, which every client of a run uses.
    assertEquals(await new SSMClient({ profile: "dev" }).config.region(), "ap-south-1");
    assertEquals(await new SSMClient({}).config.region(), "eu-central-1");
  });
});

Deno.test("no region anywhere: none, even with AWS_DEFAULT_REGION set", async () => {
  await withConfig("[profile other]\nregion = eu-west-1\n", async () => {
    const vars: Record<string, string> = { AWS_DEFAULT_REGION: "eu-west-1", AWS_REGION: "" };
    assertEquals(await regionFacts({}, (n) => vars[n]), {
      profile: "default",
      defaultRegionEnv: "eu-west-1",
    });
  });
});
