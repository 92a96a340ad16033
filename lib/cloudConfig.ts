/**
 * The nodes' user data. It only names the host: user data is stored and shown in clear text by
 * @pulumi/aws v7 and readable from the instance metadata service, so nothing secret ever goes here
 * (keys, certificates and tokens arrive over SSH on stdin).
 */
import * as YAML from "yaml";

export function renderCloudConfig(input: { readonly hostname: string }): string {
  // docker-machine set the hostname in the book; `docker node update … aws-105` relies on it.
  const document = { hostname: input.hostname, fqdn: input.hostname, preserve_hostname: false, manage_etc_hosts: true };
  return `#cloud-config\n${YAML.stringify(document)}`;
}
