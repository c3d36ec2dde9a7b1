/**
 * @module lib/body
 * Reads a request body once, as text, enforcing the 256 KiB limit (413) before and after reading,
 * and parses JSON ourselves: Hono's json validator skips parsing for other content types.
 */
import { AppError } from "./errors";

export const BODY_LIMIT = 256 * 1024;

export function tooLarge(): AppError {
  return new AppError("payload_too_large", `The request body is larger than ${BODY_LIMIT / 1024} KiB.`, { limitBytes: BODY_LIMIT });
}

/**
 * Reads at most `limit` bytes of a stream, then cancels it. `truncated` says there was more. Used for
 * request bodies (over the limit is a 413) and for the first KiB of a callback response.
 */
export async function readLimited(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<{ bytes: Uint8Array; text: string; truncated: boolean }> {
  const out = new Uint8Array(limit);
  let size = 0;
  let truncated = false;
  if (stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, limit - size);
      out.set(value.subarray(0, take), size);
      size += take;
      if (take < value.byteLength) {
        truncated = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  }
  const bytes = out.subarray(0, size);
  return { bytes, text: new TextDecoder().decode(bytes), truncated };
}

/** The body's exact bytes and its text; throws 413 when it is over the limit. */
export async function readBody(req: Request, limit = BODY_LIMIT): Promise<{ bytes: Uint8Array; text: string }> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const { bytes, text, truncated } = await readLimited(req.body, limit);
  if (truncated) throw tooLarge();
  return { bytes, text };
}

/** The body as text; throws 413 when it is over the limit. */
export async function readBodyText(req: Request, limit = BODY_LIMIT): Promise<string> {
  return (await readBody(req, limit)).text;
}

export function isJsonContentType(ct: string | null): boolean {
  if (!ct) return false;
  const mime = ct.split(";")[0].trim().toLowerCase();
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

/** Parses JSON text; a syntax error is a 400 `invalid_json`. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid_json", "The request body is not valid JSON.", { reason: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * The JSON body of an admin API request. An empty body reads as `{}` (for POSTs that take none);
 * any other body must be declared JSON (415) and parse (400).
 */
export async function readJsonBody(req: Request): Promise<unknown> {
  const text = await readBodyText(req);
  if (text.trim() === "") return {};
  if (!isJsonContentType(req.headers.get("content-type"))) {
    throw new AppError("unsupported_media_type", "Send the body as application/json.", {
      contentType: req.headers.get("content-type"),
    });
  }
  return parseJsonText(text);
}
