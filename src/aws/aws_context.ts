/**
 * The AWS adapter: SDK clients built once per run with the SDK's default credential chain
 * (env, profiles, SSO, credential_process, IMDS), shared between SSM and EC2 Instance Connect,
 * and the fetch-based HTTP handler, which honours HTTPS_PROXY and custom CAs under Deno.
 * Endpoints come from AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT as usual.
 *
 * @example
 * ```ts
 * const aws = createAwsContext({ region: "eu-west-1" });
 * await aws.ssm.send(new StartSessionCommand({ Target: "i-0123456789abcdef0" }));
 * ```
 * @module
 */

import { SSMClient } from "@aws-sdk/client-ssm";
import { EC2InstanceConnectClient } from "@aws-sdk/client-ec2-instance-connect";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { credentialProvider, type SignIn } from "./credentials.ts";
import { SsmsshError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";

/** Where to sign in and which region to use; undefined means the SDK's defaults. */
export interface AwsOptions {
  region?: string;
  profile?: string;
  /** PEM bundle of extra trusted CAs (AWS_CA_BUNDLE), e.g. a corporate TLS proxy's. */
  caBundle?: string;
  /** Where sign-in diagnostics go (credential cache, the SDK's provider chain) with -v. */
  logger?: Logger;
}

/** Configuration every client of one run shares: credentials, HTTP handler, region. */
export type AwsClientConfig = {
  region?: string;
  profile?: string;
  credentials: ReturnType<typeof credentialProvider>;
  requestHandler: FetchHttpHandler;
  maxAttempts: number;
};

/** The clients a command needs; `config` builds any other client (`new STSClient(config)`). */
export interface AwsContext {
  config: AwsClientConfig;
  ssm: SSMClient;
  ec2InstanceConnect: EC2InstanceConnectClient;
}

/**
 * Builds the clients with one shared credential provider and HTTP handler. `signIn` brings the
 * MFA prompt and the credential cache (the CLI's; tests and library use go without).
 */
export function createAwsContext(options: AwsOptions, signIn: SignIn = {}): AwsContext {
  const credentials = credentialProvider(options, { logger: options.logger, ...signIn });
  const requestHandler = new FetchHttpHandler({
    requestTimeout: 20000,
    requestInit: httpClientInit(options.caBundle),
  });
  const config: AwsClientConfig = {
    region: options.region,
    profile: options.profile,
    credentials,
    requestHandler,
    maxAttempts: 3,
  };
  return {
    config,
    ssm: new SSMClient(config),
    ec2InstanceConnect: new EC2InstanceConnectClient(config),
  };
}

/** Deno's fetch takes extra CAs through a custom client; proxies still come from the env. */
function httpClientInit(caBundle: string | undefined): (() => RequestInit) | undefined {
  if (!caBundle) return undefined;
  let pem: string;
  try {
    pem = Deno.readTextFileSync(caBundle);
  } catch (error) {
    throw new SsmsshError(
      "config",
      `Cannot read AWS_CA_BUNDLE ${caBundle}: ${(error as Error).message}`,
      "Point AWS_CA_BUNDLE at a readable PEM file, or unset it",
    );
  }
  const client = Deno.createHttpClient({ caCerts: [pem] });
  return () => ({ client } as RequestInit);
}
