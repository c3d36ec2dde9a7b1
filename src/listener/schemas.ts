import { z } from "zod";

export const INTEGRATION_ACTIONS = ["create", "update", "archive", "expire", "void", "redeem"] as const;

const mapping = z.record(z.string().max(64), z.string().max(200).nullable());
const signingSecret = z
  .string()
  .max(512)
  .refine((v) => v.trim().length >= 16, "must be at least 16 characters, not counting surrounding spaces");

export const createIntegrationBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    templateId: z.number().int().positive(),
    action: z.enum(INTEGRATION_ACTIONS),
    fieldMapping: mapping.optional(),
    signingSecret: signingSecret.optional(),
  })
  .strict();

export const patchIntegrationBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    fieldMapping: mapping.optional(),
    signingSecret: signingSecret.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
