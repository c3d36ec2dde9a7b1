import { z } from "zod";

export const createProjectBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    externalId: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
