/** zod schemas for template and pass bodies on the admin API. */
import { z } from "zod";
import { SHADOWING_KEYS } from "../lib/safe-keys";
import { coerceValue } from "./fields";
import { PASS_STATUSES } from "./transitions";

export const PASS_TYPES = ["loyalty", "coupon", "eventTicket", "generic", "storeCard", "boardingPass"] as const;
export const FIELD_TYPES = ["text", "number", "date", "url", "email", "barcode"] as const;
/** The listener's id key: never a template field. */
export const PASS_ID_KEY = "pass-id";

const fieldDef = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}$/, "must match ^[a-z][a-z0-9_-]{0,63}$")
      .refine((k) => k !== PASS_ID_KEY, `"${PASS_ID_KEY}" is reserved for the pass id`)
      // A key such as "constructor" would read as an inherited member wherever fields are looked up.
      .refine((k) => !SHADOWING_KEYS.has(k), "is a reserved name (a built-in object property); choose another key"),
    label: z.string().trim().min(1, "must not be blank").max(128),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number()]).nullable().optional(),
  })
  .strict();

const design = z.record(z.string(), z.unknown()).nullable().optional();

export const templateBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    passType: z.enum(PASS_TYPES),
    fields: z.array(fieldDef).max(64),
    apple: design,
    google: design,
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.fields.forEach((f, i) => {
      if (seen.has(f.key)) ctx.addIssue({ code: "custom", path: ["fields", i, "key"], message: `duplicate field key "${f.key}"` });
      seen.add(f.key);
      if (f.default != null) {
        const r = coerceValue(f.type, f.default);
        if (!r.ok) ctx.addIssue({ code: "custom", path: ["fields", i, "default"], message: `default ${r.message}` });
        else f.default = r.value;
      }
    });
  });
export type TemplateBody = z.output<typeof templateBody>;

const fieldsObject = z.record(z.string(), z.unknown());

/** Pass properties a body may name but not set here, and what to do instead. */
const READ_ONLY: Record<string, string> = {
  status: "cannot be set here; use POST /v1/pass/{passId}/status",
  externalId: "is set when the pass is created and cannot be changed",
  archivedAt: "cannot be set here; DELETE /v1/pass/{passId} archives a pass",
  id: "is assigned by passhook",
  templateId: "is fixed by the URL the pass is created under",
  projectId: "is fixed by your API key",
  serialNumber: "is assigned by passhook",
  version: "is assigned by passhook",
  createdAt: "is assigned by passhook",
  updatedAt: "is assigned by passhook",
};

/**
 * A pass body with only `shape`'s keys. A sender who puts template fields at the top level
 * (`{"externalId": "x", "name": "X"}`) is told they go under `fields`.
 */
function passBody<S extends z.ZodRawShape>(shape: S) {
  return z.looseObject(shape).superRefine((body, ctx) => {
    for (const key of Object.keys(body)) {
      if (Object.hasOwn(shape, key)) continue;
      const message = Object.hasOwn(READ_ONLY, key)
        ? READ_ONLY[key]
        : `is not a pass property; template fields go under "fields", e.g. {"fields": {${JSON.stringify(key)}: …}}`;
      ctx.addIssue({ code: "custom", path: [key], message });
    }
  });
}

export const createPassBody = passBody({
  externalId: z.string().trim().min(1).max(200).optional(),
  fields: fieldsObject.default({}),
});

export const updatePassBody = passBody({ fields: fieldsObject });

export const statusBody = z.object({ status: z.enum(PASS_STATUSES) }).strict();
