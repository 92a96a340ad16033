/**
 * The prod stack differs in shape, not just names: five managers joining one at a time, twenty
 * nodes, Ubuntu 18.04 (without an encrypted overlay: its archive's Docker is too old), m4.large,
 * its own admin networks, region and address plan. The encrypted overlay and its ESP rule are in
 * tests/preflight.program.test.ts.
 */
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { createOf, envOf, named, ofType, TYPES, waitsFor } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

let run: ProgramRun;
beforeAll(async () => {
  run = await runIsolated("prod");
});

test("twenty m4.large nodes in us-west-2b on the prod address plan", () => {
  const instances = ofType(run, TYPES.instance);
  expect(instances).toHaveLength(20);
  for (const instance of instances) expect(instance.inputs.instanceType).toBe("m4.large");
  expect(named(run, "network-subnet").inputs).toMatchObject({ cidrBlock: "172.30.16.0/20", availabilityZone: "us-west-2b" });
  expect(named(run, "nodes-aws-101-instance").inputs.privateIp).toBe("172.30.16.10");
  expect(named(run, "nodes-aws-101-instance").inputs.rootBlockDevice).toMatchObject({ volumeSize: 40 });
});

test("five managers join one after the other; the control node is the sixth node", () => {
  for (const [later, earlier] of [
    ["aws-103", "aws-102"],
    ["aws-104", "aws-103"],
    ["aws-105", "aws-104"],
  ]) {
    expect(waitsFor(run, `swarm-join-${later}`, `swarm-join-${earlier}`)).toBe(true);
    expect(envOf(createOf(run, `swarm-join-${later}`)).SWARM_ROLE).toBe("manager");
  }
  expect((named(run, "nodes-aws-106-instance").inputs.tags as Record<string, string>).Role).toBe("control");
  expect((named(run, "nodes-aws-107-instance").inputs.tags as Record<string, string>).Role).toBe("sparkmaster");
  expect(run.outputs.managerAddresses).toHaveLength(5);
});

test("no encrypted overlay (bionic's own docker.io is below its floor), so no ESP rule and no Docker floor", () => {
  expect(envOf(createOf(run, "spark-network")).NETWORK_ENCRYPTED).toBe("0");
  expect(ofType(run, TYPES.ingress).filter((r) => r.inputs.ipProtocol === "50")).toEqual([]);
  expect(envOf(createOf(run, "nodes-aws-101-docker")).MIN_DOCKER_VERSION).toBe("");
  // xt_u32 is loaded only for an encrypted overlay (preflight.program.test.ts has that variant).
  expect(envOf(createOf(run, "nodes-aws-101-docker")).KERNEL_MODULES).toBe("overlay br_netfilter vxlan ip_vs ip_vs_rr xt_ipvs");
});

test("its own admin networks and Ubuntu 18.04", () => {
  const ssh = ofType(run, TYPES.ingress).filter((r) => r.inputs.fromPort === 22);
  expect(ssh.map((r) => r.inputs.cidrIpv4).sort()).toEqual(["192.0.2.44/32", "198.51.100.0/24"]);
  expect(String(named(run, "nodes-aws-101-flocker-preflight").inputs.stdin)).toContain("/18.04/");
  expect((named(run, "pki-ca-cert").inputs.subject as Record<string, string>).commonName).toBe("spark-prod");
});

test("Spark sized for production", () => {
  expect(envOf(createOf(run, "spark-volume"))).toMatchObject({ VOLUME_SIZE: "200G", VOLUME_PROFILE: "silver" });
  expect(JSON.parse(envOf(createOf(run, "spark-worker")).SERVICE_SPEC)).toMatchObject({
    replicas: 12,
    env: ["SPARK_MASTER_IP=tasks.spark-master", "SPARK_WORKER_CORES=2", "SPARK_WORKER_MEMORY=6g"],
  });
  const policy = JSON.parse(String(named(run, "storage-flocker-policy").inputs.policy));
  expect(JSON.stringify(policy)).toContain("arn:aws:ec2:us-west-2:123456789012:volume/*");
});
