/** What the operator's tools report before they act: each problem with what to do about it. */
export interface Problem {
  /** What is wrong. */
  readonly problem: string;
  /** What to do about it. */
  readonly fix: string;
}

/** A stack file's `config:` map as written (values not stringified; `{ secure: … }` for secrets). */
export type RawStackConfig = Readonly<Record<string, unknown>>;
