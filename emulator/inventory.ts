/**
 * The emulator's instance registry: what ssm:DescribeInstanceInformation (filters by tag, tag key,
 * id and ping status; MaxResults/NextToken pages) and the Resource Groups Tagging API's
 * GetResources (Name tags for `ssmssh list`) answer. Field names and limits follow the real APIs.
 * Test/demo infrastructure only.
 *
 * @example
 * ```ts
 * await using emulator = await startEmulator({
 *   instances: [{ id: "i-0123456789abcdef0", name: "web-1", tags: { Env: "prod" } }],
 * });
 * ```
 * @module
 */

import { ApiError, type Operation } from "./ssm_api.ts";

/** One instance registered with Systems Manager. */
export interface EmulatorInstance {
  /** `i-…` (EC2 instance) or `mi-…` (hybrid managed node). */
  id: string;
  /** The Name tag; for a managed node also its activation name (`Name` in the output). */
  name?: string;
  tags?: Record<string, string>;
  /** Default Online. Only Online instances accept StartSession. */
  pingStatus?: "Online" | "ConnectionLost" | "Inactive";
  agentVersion?: string;
  platformType?: "Linux" | "Windows" | "MacOS";
  platformName?: string;
  platformVersion?: string;
  computerName?: string;
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const STRING_FILTER_KEYS = ["InstanceIds", "PingStatus", "PlatformTypes", "ResourceType"];

/** Ids of the instances that accept sessions (ping status Online). */
export function onlineInstanceIds(instances: EmulatorInstance[]): string[] {
  return instances.filter((i) => (i.pingStatus ?? "Online") === "Online").map((i) => i.id);
}

/** DescribeInstanceInformation and GetResources over `instances` (read on every call). */
export function inventoryOperations(instances: EmulatorInstance[]): Record<string, Operation> {
  return {
    "AmazonSSM.DescribeInstanceInformation": (input) => {
      const filters = (input.Filters ?? []) as Array<{ Key?: string; Values?: string[] }>;
      if (input.InstanceInformationFilterList && filters.length > 0) {
        throw new ApiError(
          "ValidationException",
          "InstanceInformationFilterList and Filters cannot be used together",
        );
      }
      const tagFilters = filters.filter((f) => isTagKey(f.Key));
      if (tagFilters.length > 0 && tagFilters.length < filters.length) {
        throw new ApiError(
          "ValidationException",
          "Tag filters can't be combined with other filters",
        );
      }
      const max = pageSize(input.MaxResults, 5, 50, 10, "maxResults");
      const matching = instances.filter((i) => filters.every((f) => matches(i, f)));
      const { page, next } = paginate(matching, input.NextToken, max);
      return { InstanceInformationList: page.map(information), NextToken: next };
    },
    "ResourceGroupsTaggingAPI_20170126.GetResources": (input) => {
      const types = (input.ResourceTypeFilters ?? []) as string[];
      const tagFilters = (input.TagFilters ?? []) as Array<{ Key?: string; Values?: string[] }>;
      const perPage = pageSize(input.ResourcesPerPage, 1, 100, 50, "resourcesPerPage");
      const matching = instances.filter((i) => {
        const tags = tagsOf(i);
        if (Object.keys(tags).length === 0) return false;
        if (types.length > 0 && !types.some((t) => resourceType(i).startsWith(t))) return false;
        return tagFilters.every((f) =>
          f.Key !== undefined && f.Key in tags &&
          (!f.Values?.length || f.Values.includes(tags[f.Key]))
        );
      });
      const { page, next } = paginate(matching, input.PaginationToken, perPage);
      return {
        PaginationToken: next ?? "",
        ResourceTagMappingList: page.map((i) => ({
          ResourceARN: arn(i),
          Tags: Object.entries(tagsOf(i)).map(([Key, Value]) => ({ Key, Value })),
        })),
      };
    },
  };
}

function isTagKey(key: string | undefined): boolean {
  return key === "tag-key" || (key?.startsWith("tag:") ?? false);
}

function tagsOf(instance: EmulatorInstance): Record<string, string> {
  return { ...(instance.name ? { Name: instance.name } : {}), ...instance.tags };
}

function isManaged(instance: EmulatorInstance): boolean {
  return instance.id.startsWith("mi-");
}

function matches(instance: EmulatorInstance, filter: { Key?: string; Values?: string[] }): boolean {
  const key = filter.Key ?? "";
  const values = filter.Values ?? [];
  if (values.length === 0) throw new ApiError("InvalidFilterValue", `Filter ${key} has no values`);
  const tags = tagsOf(instance);
  if (key === "tag-key") return values.some((v) => v in tags);
  if (key.startsWith("tag:")) return values.includes(tags[key.slice(4)]);
  const field: Record<string, string> = {
    InstanceIds: instance.id,
    PingStatus: instance.pingStatus ?? "Online",
    PlatformTypes: instance.platformType ?? "Linux",
    ResourceType: isManaged(instance) ? "ManagedInstance" : "EC2Instance",
  };
  if (!STRING_FILTER_KEYS.includes(key)) {
    throw new ApiError("InvalidFilterKey", `The filter key ${key} is not valid`);
  }
  return values.includes(field[key]);
}

/** An InstanceInformation as the service returns it (no tags, Name only for managed nodes). */
function information(instance: EmulatorInstance): Record<string, unknown> {
  const platformType = instance.platformType ?? "Linux";
  const managed = isManaged(instance);
  return {
    InstanceId: instance.id,
    PingStatus: instance.pingStatus ?? "Online",
    LastPingDateTime: Math.floor(Date.now() / 1000),
    AgentVersion: instance.agentVersion ?? "3.3.987.0",
    IsLatestVersion: false,
    PlatformType: platformType,
    PlatformName: instance.platformName ??
      (platformType === "Windows" ? "Microsoft Windows Server 2022 Datacenter" : "Amazon Linux"),
    PlatformVersion: instance.platformVersion ??
      (platformType === "Windows" ? "10.0.20348" : "2023"),
    ResourceType: managed ? "ManagedInstance" : "EC2Instance",
    IPAddress: `10.0.${address(instance.id).replace("-", ".")}`,
    ComputerName: instance.computerName ?? `ip-10-0-${address(instance.id)}.ec2.internal`,
    AssociationStatus: "Success",
    SourceId: instance.id,
    SourceType: managed ? "AWS::SSM::ManagedInstance" : "AWS::EC2::Instance",
    ...(managed && instance.name ? { Name: instance.name } : {}),
    ...(managed ? { RegistrationDate: 1700000000, IamRole: "SSMServiceRole" } : {}),
  };
}

/** Two address bytes derived from the id ("12-34"), so each instance has its own IP. */
function address(id: string): string {
  const hex = id.replace(/^m?i-/, "").padStart(4, "0");
  return `${parseInt(hex.slice(-4, -2), 16)}-${parseInt(hex.slice(-2), 16)}`;
}

function resourceType(instance: EmulatorInstance): string {
  return isManaged(instance) ? "ssm:managed-instance" : "ec2:instance";
}

function arn(instance: EmulatorInstance): string {
  return isManaged(instance)
    ? `arn:aws:ssm:${REGION}:${ACCOUNT}:managed-instance/${instance.id}`
    : `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instance.id}`;
}

function pageSize(
  value: unknown,
  min: number,
  max: number,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(
      "ValidationException",
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ` +
        `Member must have value between ${min} and ${max}`,
    );
  }
  return n;
}

/** A page starting at the offset the opaque token encodes; `next` is undefined on the last. */
function paginate<T>(items: T[], token: unknown, size: number): { page: T[]; next?: string } {
  let start = 0;
  if (token) {
    let decoded: RegExpExecArray | null = null;
    try {
      decoded = /^offset:(\d+)$/.exec(atob(String(token)));
    } catch {
      // not base64: refused below
    }
    if (!decoded) throw new ApiError("InvalidNextToken", "The specified token is not valid");
    start = Number(decoded[1]);
  }
  const end = start + size;
  return {
    page: items.slice(start, end),
    next: end < items.length ? btoa(`offset:${end}`) : undefined,
  };
}
