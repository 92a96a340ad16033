/**
 * The documented IMDSv1 exception (docs/flocker.md): Flocker 1.15 reads the instance
 * id with boto 2, which only speaks IMDSv1, so the nodes keep IMDS tokens optional and carry this
 * tag. The program sets it; the policy pack accepts IMDSv1 only on instances carrying it.
 */
export const IMDSV1_EXCEPTION_TAG = "imdsv1-exception";
export const IMDSV1_EXCEPTION_REASON = "flocker-1.15-reads-instance-id-with-boto2";
