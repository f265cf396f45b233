/**
 * Name resolution: parsing targets, one/zero/several matches, `--pick first`, the lookup cache
 * (freshness, damage, permissions, keys), and the SDK calls against the emulator's registry.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../support/assert.ts";
import { SsmsshError } from "../../src/errors.ts";
import {
  keyHostFor,
  parseTargetQuery,
  type ResolverOptions,
  targetCacheSettings,
  TargetResolver,
} from "../../src/cli/resolve_target.ts";
import {
  type CachedMatch,
  cacheOptionsFromEnv,
  defaultCacheDir,
  TargetCache,
} from "../../src/cli/target_cache.ts";
import { describeManagedInstances, ec2NameTags } from "../../src/aws/instances.ts";
import type { AwsClientConfig } from "../../src/aws/aws_context.ts";
import { startEmulator } from "../../emulator/server.ts";
import { SSMClient } from "@aws-sdk/client-ssm";

const A = "i-0aaaaaaaaaaaaaaa1";
const B = "i-0bbbbbbbbbbbbbbb2";
const C = "i-0ccccccccccccccc3";

/** A fake lookup that records its filters and answers from a table of tag values. */
function fakeLookup(table: Record<string, CachedMatch[]>) {
  const filters: string[] = [];
  const lookup: ResolverOptions["lookup"] = (filter) => {
    filters.push(`${filter.Key}=${filter.Values?.join(",")}`);
    return Promise.resolve(table[`${filter.Key}=${filter.Values?.[0]}`] ?? []);
  };
  return { lookup, filters };
}

function resolver(
  table: Record<string, CachedMatch[]>,
  extra: Partial<ResolverOptions> = {},
) {
  const fake = fakeLookup(table);
  const r = new TargetResolver({
    lookup: fake.lookup,
    region: () => Promise.resolve("eu-west-1"),
    ...extra,
  });
  return { resolver: r, filters: fake.filters };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-cache-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parseTargetQuery: ids, names and tag targets", () => {
  assertEquals(parseTargetQuery(" I-0123456789ABCDEF0 "), {
    kind: "id",
    target: { id: "i-0123456789abcdef0", kind: "ec2" },
  });
  assertEquals(parseTargetQuery("mi-0123456789abcdef0"), {
    kind: "id",
    target: { id: "mi-0123456789abcdef0", kind: "managed" },
  });
  assertEquals(parseTargetQuery("web-1"), {
    kind: "tag",
    key: "Name",
    value: "web-1",
    text: "web-1",
  });
  assertEquals(parseTargetQuery("tag:Env=prod=blue"), {
    kind: "tag",
    key: "Env",
    value: "prod=blue",
    text: "tag:Env=prod=blue",
  });
  assertEquals(parseTargetQuery("Büro Server 1").kind, "tag");
});

Deno.test("parseTargetQuery: mistyped ids, shell syntax and bad tags are usage errors", () => {
  const typo = assertThrows(() => parseTargetQuery("i-0123abc"), SsmsshError, "not an instance id");
  assertEquals(typo.kind, "usage");
  const shell = assertThrows(() => parseTargetQuery("web-1;rm -rf /"), SsmsshError);
  assertEquals([shell.kind, shell.message], [
    "usage",
    `"web-1;rm -rf /" is not an instance id or an instance name`,
  ]);
  assert(shell.hint.includes("i-0123456789abcdef0") && shell.hint.includes("tag:Key=Value"));
  for (const bad of ["tag:", "tag:Env", "tag:=prod", "tag:Env=", "tag:Env=$(id)", "", "a\nb"]) {
    const e = assertThrows(() => parseTargetQuery(bad), SsmsshError);
    assertEquals([e.kind, e.message.includes("\n")], ["usage", false], "one line, even for a\nb");
  }
});

Deno.test("one match resolves to its id; the lookup filters on the tag", async () => {
  const { resolver: r, filters } = resolver({
    "tag:Name=web-1": [{ id: A, pingStatus: "Online" }],
    "tag:Env=prod": [{ id: "mi-0123456789abcdef0", pingStatus: "Online" }],
  });
  assertEquals(await r.resolve(parseTargetQuery("web-1")), {
    id: A,
    kind: "ec2",
    host: "web-1",
    source: "lookup",
  });
  const managed = await r.resolve(parseTargetQuery("tag:Env=prod"));
  assertEquals([managed.id, managed.kind], ["mi-0123456789abcdef0", "managed"]);
  assertEquals(filters, ["tag:Name=web-1", "tag:Env=prod"]);
});

Deno.test("ids never cause a lookup", async () => {
  const { resolver: r, filters } = resolver({});
  const target = await r.resolve(parseTargetQuery("i-0123456789abcdef0"));
  assertEquals(target, { id: "i-0123456789abcdef0", kind: "ec2", host: target.id, source: "id" });
  assertEquals(filters, []);
});

Deno.test("no match: a target error naming the region, with `ssmssh list` as the hint", async () => {
  const { resolver: r } = resolver({});
  const e = await assertRejects(() => r.resolve(parseTargetQuery("web-9")), SsmsshError);
  assertEquals(e.kind, "target");
  assertEquals(e.message, `No SSM-managed instance in eu-west-1 is named "web-9"`);
  assert(e.hint.includes("ssmssh list"), e.hint);
  const tag = await assertRejects(() => r.resolve(parseTargetQuery("tag:Env=qa")), SsmsshError);
  assertEquals(tag.message, "No SSM-managed instance in eu-west-1 has the tag Env=qa");
});

Deno.test("several matches: an error listing them (sorted, with ping status) and the way out", async () => {
  const { resolver: r } = resolver({
    "tag:Name=web": [
      { id: C, pingStatus: "Online" },
      { id: A, pingStatus: "ConnectionLost" },
      { id: B, pingStatus: "Online" },
    ],
  });
  const e = await assertRejects(() => r.resolve(parseTargetQuery("web")), SsmsshError);
  assertEquals(e.kind, "target");
  assertEquals(
    e.message,
    `"web" matches 3 instances: ${A} (ConnectionLost), ${B} (Online), ${C} (Online)`,
  );
  assert(e.hint.includes("--pick first") && e.hint.includes("instance id"), e.hint);
});

Deno.test("many matches are summarised after five", async () => {
  const many = Array.from({ length: 8 }, (_, i) => ({
    id: `i-0${String(i).repeat(16)}`,
    pingStatus: "Online",
  }));
  const { resolver: r } = resolver({ "tag:Env=prod": many });
  const e = await assertRejects(() => r.resolve(parseTargetQuery("tag:Env=prod")), SsmsshError);
  assert(e.message.startsWith(`"tag:Env=prod" matches 8 instances: `), e.message);
  assert(e.message.endsWith(", and 3 more"), e.message);
});

Deno.test("--pick first takes the first Online instance by id, whatever the service order", async () => {
  const matches = [
    { id: C, pingStatus: "Online" },
    { id: A, pingStatus: "ConnectionLost" },
    { id: B, pingStatus: "Online" },
  ];
  for (const order of [matches, [...matches].reverse()]) {
    const { resolver: r } = resolver({ "tag:Name=web": order }, { pick: "first" });
    assertEquals((await r.resolve(parseTargetQuery("web"))).id, B);
  }
  const offline = [{ id: B, pingStatus: "ConnectionLost" }, { id: A, pingStatus: "Inactive" }];
  const { resolver: r } = resolver({ "tag:Name=web": offline }, { pick: "first" });
  assertEquals((await r.resolve(parseTargetQuery("web"))).id, A, "none online: first by id");
});

Deno.test("cache: repeated resolutions look up once; expiry, scope and region make new lookups", async () => {
  await withTempDir(async (dir) => {
    let now = 1_000_000;
    const cache = () => new TargetCache({ dir: `${dir}/c`, ttlMs: 60_000, now: () => now });
    const table = { "tag:Name=web-1": [{ id: A, pingStatus: "Online" }] };
    const fake = fakeLookup(table);
    const make = (scope = "p1", region = "eu-west-1") =>
      new TargetResolver({
        lookup: fake.lookup,
        region: () => Promise.resolve(region),
        cache: cache(),
        scope,
      });
    const query = parseTargetQuery("web-1");
    assertEquals((await make().resolve(query)).source, "lookup");
    for (let i = 0; i < 9; i++) {
      const t = await make().resolve(query);
      assertEquals([t.id, t.source], [A, "cache"]);
    }
    assertEquals(fake.filters.length, 1, "ten resolutions, one lookup");

    assertEquals((await make("p2").resolve(query)).source, "lookup", "another profile");
    assertEquals((await make("p1", "us-east-1").resolve(query)).source, "lookup", "another region");
    now += 59_000;
    assertEquals((await make().resolve(query)).source, "cache");
    now += 2_000;
    assertEquals((await make().resolve(query)).source, "lookup", "expired after 60 s");
    assertEquals(fake.filters.length, 4);

    if (Deno.build.os !== "windows") {
      assertEquals((await Deno.stat(`${dir}/c`)).mode! & 0o777, 0o700);
      assertEquals((await Deno.stat(`${dir}/c/targets.json`)).mode! & 0o777, 0o600);
    }
    assertEquals([...Deno.readDirSync(`${dir}/c`)].map((e) => e.name), ["targets.json"]);
  });
});

Deno.test("cache: no match is not cached; forget drops an entry", async () => {
  await withTempDir(async (dir) => {
    const table: Record<string, CachedMatch[]> = {};
    const fake = fakeLookup(table);
    const r = new TargetResolver({
      lookup: fake.lookup,
      region: () => Promise.resolve("eu-west-1"),
      cache: new TargetCache({ dir, ttlMs: 60_000 }),
    });
    const query = parseTargetQuery("web-1");
    await assertRejects(() => r.resolve(query), SsmsshError);
    table["tag:Name=web-1"] = [{ id: A, pingStatus: "Online" }];
    assertEquals((await r.resolve(query)).source, "lookup", "launched since: found at once");
    assertEquals((await r.resolve(query)).source, "cache");
    await r.forget(query);
    assertEquals((await r.resolve(query)).source, "lookup", "forgotten");
  });
});

Deno.test("cache: a damaged file is ignored and rewritten, never an error", async () => {
  for (
    const damage of [
      "{not json",
      "",
      "null",
      '{"version":1,"entries":[1,2]}',
      '{"version":1,"entries":{"k":{"at":"x","matches":5}}}',
      '{"version":99,"entries":{}}',
      "\u0000\u0001binary",
    ]
  ) {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/targets.json`, damage);
      const fake = fakeLookup({ "tag:Name=web-1": [{ id: A, pingStatus: "Online" }] });
      const r = new TargetResolver({
        lookup: fake.lookup,
        region: () => Promise.resolve("eu-west-1"),
        cache: new TargetCache({ dir, ttlMs: 60_000 }),
      });
      assertEquals((await r.resolve(parseTargetQuery("web-1"))).id, A, damage);
      const rewritten = JSON.parse(await Deno.readTextFile(`${dir}/targets.json`));
      assertEquals(rewritten.version, 1);
      assertEquals(Object.keys(rewritten.entries).length, 1);
      assertEquals((await r.resolve(parseTargetQuery("web-1"))).source, "cache");
    });
  }
});

Deno.test("cache: an unwritable cache directory costs lookups, not errors", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "not a directory");
    const fake = fakeLookup({ "tag:Name=web-1": [{ id: A, pingStatus: "Online" }] });
    const r = new TargetResolver({
      lookup: fake.lookup,
      region: () => Promise.resolve("eu-west-1"),
      cache: new TargetCache({ dir: `${dir}/file/sub`, ttlMs: 60_000 }),
    });
    assertEquals((await r.resolve(parseTargetQuery("web-1"))).id, A);
    assertEquals((await r.resolve(parseTargetQuery("web-1"))).id, A);
    assertEquals(fake.filters.length, 2);
  });
});

Deno.test("cache location and settings come from the environment", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(defaultCacheDir(env({ SSMSSH_CACHE_DIR: "/x", HOME: "/h" }), "linux"), "/x");
  assertEquals(defaultCacheDir(env({ HOME: "/h" }), "linux"), "/h/.cache/ssmssh");
  assertEquals(
    defaultCacheDir(env({ HOME: "/h", XDG_CACHE_HOME: "/xdg" }), "linux"),
    "/xdg/ssmssh",
  );
  assertEquals(defaultCacheDir(env({ HOME: "/h" }), "darwin"), "/h/.cache/ssmssh");
  assertEquals(
    defaultCacheDir(env({ LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }), "windows"),
    "C:\\Users\\me\\AppData\\Local\\ssmssh",
  );
  assertEquals(defaultCacheDir(env({}), "linux"), undefined);
  assertEquals(cacheOptionsFromEnv(env({ HOME: "/h" })), {
    dir: "/h/.cache/ssmssh",
    ttlMs: 60_000,
  });
  assertEquals(cacheOptionsFromEnv(env({ HOME: "/h", SSMSSH_CACHE_SECONDS: "5" }))?.ttlMs, 5000);
  assertEquals(cacheOptionsFromEnv(env({ HOME: "/h", SSMSSH_CACHE_SECONDS: "0" })), undefined);
  assertEquals(
    targetCacheSettings(env({ HOME: "/h", AWS_PROFILE: "dev", AWS_ENDPOINT_URL_SSM: "http://e" })),
    { dir: "/h/.cache/ssmssh", ttlMs: 60_000, profile: "dev", endpoint: "http://e" },
  );
});

Deno.test("keyHostFor: the key file is named after the host ssh knows, when it can be", () => {
  const target = { id: A, kind: "ec2" as const, host: "web-1", source: "lookup" as const };
  assertEquals(keyHostFor(target, "linux"), "web-1");
  assertEquals(keyHostFor({ ...target, host: "tag:Env=prod" }, "linux"), "tag:Env=prod");
  const slash = assertThrows(
    () => keyHostFor({ ...target, host: "team/web" }, "linux"),
    SsmsshError,
  );
  assert(slash.hint.includes(A) && slash.hint.includes("--no-push-key"), slash.hint);
  assertThrows(() => keyHostFor({ ...target, host: "tag:Env=prod" }, "windows"), SsmsshError);
});

Deno.test("describeManagedInstances pages through the emulator's registry and filters by tag", async () => {
  const instances = Array.from({ length: 120 }, (_, i) => ({
    id: `i-0${i.toString(16).padStart(16, "0")}`,
    name: i % 40 === 0 ? "web" : `host-${i}`,
    tags: { Env: i < 60 ? "prod" : "dev" },
    pingStatus: (i % 2 ? "ConnectionLost" : "Online") as "Online" | "ConnectionLost",
  }));
  instances.push({
    id: "mi-0123456789abcdef0",
    name: "lab",
    tags: { Env: "lab" },
    pingStatus: "Online",
  });
  await using emulator = await startEmulator({ instances });
  const credentials = {
    accessKeyId: emulator.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: emulator.env.AWS_SECRET_ACCESS_KEY,
  };
  const ssm = new SSMClient({ endpoint: emulator.url, region: "us-east-1", credentials });
  try {
    const all = await describeManagedInstances(ssm);
    assertEquals(all.length, 121);
    assertEquals(emulator.calls.length, 3, "three pages of 50");
    assertEquals(all[0], {
      id: instances[0].id,
      name: undefined,
      platform: "Linux",
      platformName: "Amazon Linux",
      platformVersion: "2023",
      agentVersion: "3.3.987.0",
      pingStatus: "Online",
      computerName: "ip-10-0-0-0.ec2.internal",
      resourceType: "EC2Instance",
    });
    const lab = all.find((i) => i.id.startsWith("mi-"))!;
    assertEquals([lab.name, lab.resourceType], ["lab", "ManagedInstance"]);

    const web = await describeManagedInstances(ssm, [{ Key: "tag:Name", Values: ["web"] }]);
    assertEquals(web.map((i) => i.id), [instances[0].id, instances[40].id, instances[80].id]);
    assertEquals(emulator.calls.at(-1)!.input, {
      Filters: [{ Key: "tag:Name", Values: ["web"] }],
      MaxResults: 50,
    });

    const config = {
      region: "us-east-1",
      credentials,
      endpoint: emulator.url,
    } as unknown as AwsClientConfig;
    const names = await ec2NameTags(config);
    assertEquals(names.size, 120, "EC2 instances only");
    assertEquals(names.get(instances[41].id), "host-41");
    const pages = emulator.calls.filter((c) => c.operation.endsWith(".GetResources"));
    assertEquals(pages.length, 2, "100 per page");
    assertEquals(pages[0].input, {
      ResourceTypeFilters: ["ec2:instance"],
      TagFilters: [{ Key: "Name" }],
      ResourcesPerPage: 100,
    });
  } finally {
    ssm.destroy();
  }
});

Deno.test("lookups that are denied name the IAM action", async () => {
  await using emulator = await startEmulator({
    instances: [{ id: A, name: "web-1" }],
    denied: [
      "AmazonSSM.DescribeInstanceInformation",
      "ResourceGroupsTaggingAPI_20170126.GetResources",
    ],
  });
  const credentials = { accessKeyId: "AKIAEMULATOR00000000", secretAccessKey: "x" };
  const ssm = new SSMClient({ endpoint: emulator.url, region: "us-east-1", credentials });
  try {
    const e = await assertRejects(() => describeManagedInstances(ssm), SsmsshError);
    assertEquals(e.kind, "access-denied");
    assert(e.hint.includes("ssm:DescribeInstanceInformation"), e.hint);
    const config = { region: "us-east-1", credentials, endpoint: emulator.url };
    const t = await assertRejects(
      () => ec2NameTags(config as unknown as AwsClientConfig),
      SsmsshError,
    );
    assertEquals(t.kind, "access-denied");
    assert(t.message.includes("tag:GetResources") && t.hint.includes("tag:GetResources"));
  } finally {
    ssm.destroy();
  }
});
