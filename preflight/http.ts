/**
 * The operator-side HTTP the preflight uses to look at registries and apt repositories: one small
 * function type, so that tests and the offline plan hand in a fake world instead of the internet.
 */

export interface HttpRequest {
  readonly url: string;
  readonly method: "GET" | "HEAD";
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Empty for HEAD. */
  readonly body: Uint8Array;
}

/** Resolves with any HTTP status; rejects only when no answer came (DNS, TLS, refused, timeout). */
export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/** A registry or repository that does not answer within this is reported, not waited for. */
const HTTP_TIMEOUT_MS = 15_000;
/** Larger bodies are refused: a Flocker package index is a few KiB, a manifest less. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Node's fetch with a wall-clock bound on the whole exchange, body included. */
export const nodeHttp: HttpClient = async (request) => {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    redirect: "follow",
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  if (request.method === "HEAD") return { status: response.status, headers, body: new Uint8Array() };
  const length = Number(headers["content-length"] ?? "0");
  if (length > MAX_BODY_BYTES) throw new Error(`the answer is ${length} bytes, more than the ${MAX_BODY_BYTES} this check reads`);
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
};

/** `https://user:secret@host/x` → `https://host/x`: credentials never reach a message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, "//");
  }
}

/** Why a request got no answer, in a line (fetch wraps the cause: "fetch failed" alone says nothing). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError" || error.name === "AbortError") return `no answer within ${HTTP_TIMEOUT_MS / 1000}s`;
  const cause = (error as Error & { cause?: unknown }).cause;
  const detail = cause instanceof Error ? ((cause as Error & { code?: string }).code ?? cause.message) : undefined;
  return detail === undefined ? error.message : `${error.message} (${detail})`;
}
