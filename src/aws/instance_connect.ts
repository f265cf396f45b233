/**
 * ec2-instance-connect:SendSSHPublicKey: puts a public key on the instance for 60 seconds.
 *
 * @example
 * ```ts
 * await sendSshPublicKey(aws.ec2InstanceConnect, "i-0123456789abcdef0", "ec2-user", line);
 * ```
 * @module
 */

import {
  type EC2InstanceConnectClient,
  SendSSHPublicKeyCommand,
} from "@aws-sdk/client-ec2-instance-connect";
import { toSsmsshError } from "./aws_errors.ts";

/** Pushes `publicKeyLine` for `osUser` on `instanceId`. */
export async function sendSshPublicKey(
  client: EC2InstanceConnectClient,
  instanceId: string,
  osUser: string,
  publicKeyLine: string,
): Promise<void> {
  try {
    const out = await client.send(
      new SendSSHPublicKeyCommand({
        InstanceId: instanceId,
        InstanceOSUser: osUser,
        SSHPublicKey: publicKeyLine,
      }),
    );
    if (out.Success === false) throw new Error("SendSSHPublicKey did not succeed");
  } catch (error) {
    throw toSsmsshError(error, {
      action: "ec2-instance-connect:SendSSHPublicKey",
      target: instanceId,
    });
  }
}
