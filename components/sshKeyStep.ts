/**
 * The first step on every node, `nodes-<node>-ssh-key`: on the operator's machine (a
 * `local.Command`), tools/ssh-key-rotate.sh makes the node's login user accept the stack's current
 * SSH key generation and nothing else, logging in with the current or the previous generation.
 * This is what makes a key rotation a day-2 change: EC2 only hands a key to an instance at launch,
 * so the running nodes learn the new key from the old one. Docs: docs/operations.md, "Rotate the
 * SSH key".
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { quote } from "shell-quote";
import { digestFiles } from "../lib/scripts";

const ROTATE_SCRIPT = path.join(__dirname, "..", "tools", "ssh-key-rotate.sh");
/** What ssh-key-rotate.sh sends the node on ssh's stdin. */
const NODE_HALF = path.join(__dirname, "..", "scripts", "bootstrap", "ssh-authorized-key.sh");

/** One generation of the stack's SSH key (`sshKeyGeneration`). */
export interface SshKeyGeneration {
  /** 1, 2, …: the config value it belongs to. */
  readonly generation: number;
  /** Secret. OpenSSH format. */
  readonly privateKey: pulumi.Input<string>;
  /** OpenSSH format, one line. */
  readonly publicKey: pulumi.Input<string>;
}

export interface SshKeyStepArgs {
  readonly nodeName: string;
  /** The node's public address. */
  readonly host: pulumi.Input<string>;
  readonly sshUser: string;
  /** A new instance runs the step again (its key pair may be either generation). */
  readonly instanceId: pulumi.Input<string>;
  /** The generation every later step logs in with. */
  readonly current: SshKeyGeneration;
  /** The generation the nodes may still hold (absent for generation 1). */
  readonly previous?: SshKeyGeneration;
  /** What SSH needs besides the instance (the subnet's internet route). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export function sshKeyStep(name: string, args: SshKeyStepArgs, parent: pulumi.Resource): command.local.Command {
  const keys = [args.current, ...(args.previous ? [args.previous] : [])];
  return new command.local.Command(
    name,
    {
      // Relative to the program's directory, where Pulumi runs programs and this provider's
      // commands: an absolute path would differ between operators' checkouts.
      create: quote(["bash", path.relative(process.cwd(), ROTATE_SCRIPT)]),
      environment: {
        NODE_NAME: args.nodeName,
        SSH_HOST: args.host,
        SSH_USER: args.sshUser,
        KEY_GENERATION: String(args.current.generation),
        PREVIOUS_KEY_GENERATION: args.previous ? String(args.previous.generation) : "",
        PUBLIC_KEY: args.current.publicKey,
        // A changed script runs the step again.
        SCRIPT_DIGEST: digestFiles([ROTATE_SCRIPT, NODE_HALF]),
      },
      // Current first, then previous: the order ssh-key-rotate.sh reads them in.
      stdin: pulumi.secret(
        pulumi
          .all(keys.map((key) => key.privateKey))
          .apply((pems) => pems.map((pem) => (pem.endsWith("\n") ? pem : `${pem}\n`)).join("")),
      ),
      triggers: [args.instanceId],
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: args.dependsOn, additionalSecretOutputs: ["stdin"] },
  );
}
