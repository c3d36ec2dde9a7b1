/**
 * @module lib/validation
 * Runs a zod schema and turns its issues into passhook's `validation_failed` error, one
 * `{path, message}` per issue with a dotted path (`fields.0.key`), so a client can point at the field.
 */
import type { z } from "zod";
import { validationError, type FieldIssue } from "./errors";

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, message?: string): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw validationError(zodIssues(r.error), message);
  return r.data;
}
