/**
 * The two clusters a stack can build (config key `platform`, docs/platforms.md): `book`, the
 * chapter as written (Flocker on Ubuntu 16.04/18.04 and Xen instance types), and `current`, the
 * same Swarm and Spark on parts maintained today (Ubuntu 24.04, Nitro, IMDSv2, docker.io 29, the
 * Spark data on a Pulumi-owned EBS volume), without Flocker.
 */

export const PLATFORMS = ["book", "current"] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Canonical's public SSM parameter that names its current Ubuntu 24.04 LTS amd64 HVM image with a
 * gp3 root volume, per region (Canonical, "Find Ubuntu images on AWS"; gp3 images from 23.10 on).
 */
export const UBUNTU_2404_SSM_PARAMETER = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";

/** The aws CLI command that prints what UBUNTU_2404_SSM_PARAMETER names today in a region. */
export function ubuntu2404LookupCommand(region: string): string {
  return `aws ssm get-parameter --region ${region} --name ${UBUNTU_2404_SSM_PARAMETER} --query Parameter.Value --output text`;
}

/** The command that pins (or refreshes the pin of) the current platform's node image. */
export function pinNodeImageCommand(stack: string, imageId: string): string {
  return `pulumi config set nodeImageId ${imageId} --stack ${stack}`;
}

/**
 * apache/spark 3.5.6 (Spark 3.5.6, Scala 2.12, Java 17, Ubuntu), pinned by digest. The digest was
 * found pinned in public source (docs/platforms.md, "The Spark image"); the preflight proves the
 * manifest exists in Docker Hub before anything billable is created.
 */
export const CURRENT_SPARK_IMAGE = "apache/spark:3.5.6@sha256:599722640c8a42ff5ecca329a3faa5371b3bd5c752b320776d5cdd1eed3441ac";

/** Where Spark lives in the apache/spark images (their Dockerfiles set SPARK_HOME=/opt/spark). */
export const APACHE_SPARK_HOME = "/opt/spark";
