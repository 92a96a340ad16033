/** What the operator's tools hand to the commands they run. */

/** The operator's environment without the Pulumi passphrase, for commands that have no use for it (ssh, aws). */
export function withoutPulumiPassphrase(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const copy = { ...env };
  delete copy.PULUMI_CONFIG_PASSPHRASE;
  delete copy.PULUMI_CONFIG_PASSPHRASE_FILE;
  return copy;
}
