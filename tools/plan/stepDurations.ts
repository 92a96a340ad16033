/**
 * Assumed durations of the bring-up steps, in seconds, for an *estimate* of the critical path's
 * wall time. They are planning figures (a t2.medium in us-east-1, images pulled from Docker Hub),
 * not measurements: the measured quantity is the number of sequential steps.
 */
import type { Step } from "./graph";

const BY_NAME: ReadonlyArray<readonly [RegExp, number]> = [
  [/^nodes-.*-ssh-key$/, 60], // first SSH contact: sshd up, the launch key installed by cloud-init
  [/^nodes-.*-scripts$/, 10],
  [/^nodes-.*-flocker-deb-/, 30],
  [/^nodes-.*-boot$/, 30],
  [/^nodes-.*-flocker-preflight$/, 15],
  [/^nodes-.*-docker$/, 90],
  [/^images-.*-flocker$/, 90], // ClusterHQ's four images from Docker Hub
  [/^images-.*-services$/, 120], // the Spark images
  [/^flocker-control-state-(volume|attachment)$/, 10],
  [/^flocker-control-state-mount$/, 15],
  [/^flocker-.*-install$/, 120],
  [/^flocker-.*-files$/, 5],
  [/^flocker-.*-control$/, 20],
  [/^flocker-.*-agents$/, 30],
  [/^flocker-test$/, 90], // a 1 GiB EBS dataset created, attached, written, deleted
  [/^flocker-status$/, 5],
  [/^flocker-plugin-/, 5],
  [/^swarm-peer-/, 3],
  [/^swarm-init$/, 5],
  [/^swarm-token-/, 2],
  [/^swarm-join-/, 10],
  [/^swarm-member-/, 10],
  [/^swarm-label-/, 3],
  [/^spark-network$/, 5],
  [/^spark-volume$/, 60],
  [/^spark-master$/, 120],
  [/^spark-worker$/, 90],
  [/^spark-smoke$/, 120],
];

const BY_TYPE: Readonly<Record<string, number>> = {
  "aws:ec2/instance:Instance": 45,
  "tls:index/privateKey:PrivateKey": 2,
};

/** Seconds assumed for one step: by its name, else by its type, else a few seconds of API call. */
export function assumedSeconds(step: Step): number {
  return namedDuration(step) ?? BY_TYPE[step.type] ?? 3;
}

/** The duration assumed for this step by name, if any (every command on a node has one). */
export function namedDuration(step: Pick<Step, "name">): number | undefined {
  return BY_NAME.find(([pattern]) => pattern.test(step.name))?.[1];
}
