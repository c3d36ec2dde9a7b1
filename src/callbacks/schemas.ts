import { z } from "zod";
import { pageQuery } from "../lib/pagination";

export const registerBody = z
  .object({
    baseUrl: z.string().max(2048),
    headers: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const testSendBody = z
  .object({
    event: z.enum(["install", "uninstall", "personalize"]),
    passId: z.number().int().positive(),
    platform: z.enum(["ios", "android"]).optional(),
  })
  .strict();

export const recoverBody = z.object({ since: z.iso.datetime({ offset: true }) }).strict();

export const DELIVERY_STATUSES = ["waiting", "pending", "succeeded", "failed"] as const;
export const deliveryListQuery = pageQuery.extend({ status: z.enum(DELIVERY_STATUSES).optional() });
