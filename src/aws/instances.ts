/**
 * The SSM-managed instances of a region: ssm:DescribeInstanceInformation with filters and
 * pagination, and the EC2 Name tags that call does not return (tag:GetResources, a small client
 * loaded only when asked for). Returns plain objects; SDK errors become SsmsshError.
 *
 * @example
 * ```ts
 * const web = await describeManagedInstances(aws.ssm, [{ Key: "tag:Name", Values: ["web-1"] }]);
 * const names = await ec2NameTags(aws.config); // Map { "i-0123456789abcdef0" => "web-1" }
 * ```
 * @module
 */

import {
  DescribeInstanceInformationCommand,
  type InstanceInformationStringFilter,
  type SSMClient,
} from "@aws-sdk/client-ssm";
import type { AwsClientConfig } from "./aws_context.ts";
import { toSsmsshError } from "./aws_errors.ts";

/** One filter of DescribeInstanceInformation: `tag:Key`, `tag-key`, `InstanceIds`, `PingStatus`… */
export type InstanceFilter = InstanceInformationStringFilter;

/** An SSM-managed instance (EC2 instance or hybrid managed node), as ssmssh shows it. */
export interface ManagedInstance {
  id: string;
  /** The Name tag (EC2, when known) or the activation name of a managed node (mi-). */
  name?: string;
  /** `Linux`, `Windows` or `MacOS`. */
  platform: string;
  platformName: string;
  platformVersion: string;
  agentVersion: string;
  /** `Online`, `ConnectionLost` or `Inactive`. */
  pingStatus: string;
  computerName: string;
  /** `EC2Instance` or `ManagedInstance`. */
  resourceType: string;
}

/** The largest page DescribeInstanceInformation accepts with filters. */
const PAGE_SIZE = 50;

/** Lists the managed instances matching every filter, all pages. */
export async function describeManagedInstances(
  ssm: SSMClient,
  filters: InstanceFilter[] = [],
): Promise<ManagedInstance[]> {
  const instances: ManagedInstance[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await ssm.send(
        new DescribeInstanceInformationCommand({
          Filters: filters.length > 0 ? filters : undefined,
          MaxResults: PAGE_SIZE,
          NextToken: nextToken,
        }),
      );
      for (const info of out.InstanceInformationList ?? []) {
        if (!info.InstanceId) continue;
        instances.push({
          id: info.InstanceId,
          name: info.Name || undefined,
          platform: info.PlatformType ?? "",
          platformName: info.PlatformName ?? "",
          platformVersion: info.PlatformVersion ?? "",
          agentVersion: info.AgentVersion ?? "",
          pingStatus: info.PingStatus ?? "",
          computerName: info.ComputerName ?? "",
          resourceType: info.ResourceType ?? "",
        });
      }
      nextToken = out.NextToken || undefined;
    } while (nextToken);
  } catch (error) {
    throw toSsmsshError(error, { action: "ssm:DescribeInstanceInformation" });
  }
  return instances;
}

/**
 * The Name tag of every tagged EC2 instance of the region, by instance id: one
 * tag:GetResources call per 100 instances. The client is imported here, on first use, so
 * commands that never need it (`proxy`) do not load it.
 */
export async function ec2NameTags(config: AwsClientConfig): Promise<Map<string, string>> {
  const { GetResourcesCommand, ResourceGroupsTaggingAPIClient } = await import(
    "@aws-sdk/client-resource-groups-tagging-api"
  );
  const client = new ResourceGroupsTaggingAPIClient(config);
  const names = new Map<string, string>();
  let token: string | undefined;
  try {
    do {
      const out = await client.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ["ec2:instance"],
          TagFilters: [{ Key: "Name" }],
          ResourcesPerPage: 100,
          PaginationToken: token,
        }),
      );
      for (const mapping of out.ResourceTagMappingList ?? []) {
        const id = mapping.ResourceARN?.split(":instance/")[1];
        const name = mapping.Tags?.find((tag) => tag.Key === "Name")?.Value;
        if (id && name) names.set(id, name);
      }
      token = out.PaginationToken || undefined;
    } while (token);
  } catch (error) {
    throw toSsmsshError(error, { action: "tag:GetResources" });
  } finally {
    client.destroy();
  }
  return names;
}
