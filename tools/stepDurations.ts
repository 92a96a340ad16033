/**
 * Assumed durations of the bring-up steps, in seconds, for an *estimate* of the critical path's
 * wall time. They are planning figures (a t2.medium in us-east-1, images pulled from Docker Hub),
 * not measurements: the measured quantity is the number of sequential steps.
 */
import type { Step } from "./graph";

const BY_NAME_SUFFIX: ReadonlyArray<readonly [RegExp, number]> = [
  [/-scripts$/, 60], // first SSH contact: sshd up and the key installed by cloud-init
  [/-flocker-debs$/, 30],
  [/-boot$/, 30],
  [/-flocker-preflight$/, 15],
  [/-docker$/, 90],
  [/-install$/, 120],
  [/-files$/, 5],
  [/-control$/, 20],
  [/-agents$/, 30],
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

/** Seconds assumed for one step. */
export function assumedSeconds(step: Step): number {
  for (const [pattern, seconds] of BY_NAME_SUFFIX) if (pattern.test(step.name)) return seconds;
  return BY_TYPE[step.type] ?? 3;
}
