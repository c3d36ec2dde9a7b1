/**
 * @module apple/template-design
 * A template's `apple` design as the admin API receives and stores it. `checkAppleTemplate` validates
 * it (design.ts) against the template (design-check.ts); `takeAppleImages` lifts `apple.images` out of
 * the body, so the `templates` row that every listener request loads never carries image bytes (they go
 * to `apple_template_images`, read only to build a bundle); `storedDesign` reads the design back.
 */
import type { FieldDef, TemplateRecord } from "../db/schema";
import { AppError, type FieldIssue } from "../lib/errors";
import { appleDesign, decodeDesignImages, splitDesignImages, type AppleDesignCore, type TemplatePassType } from "./design";
import { checkDesignForTemplate } from "./design-check";

export interface TemplateInput {
  passType: TemplatePassType;
  fields: readonly FieldDef[];
  apple?: Record<string, unknown> | null;
}

/** Every problem with the body's `apple` design, paths from the body's root (`apple.fields.primary`). */
export function checkAppleTemplate(body: TemplateInput): FieldIssue[] {
  if (body.apple === undefined || body.apple === null) return [];
  const parsed = appleDesign.safeParse(body.apple);
  if (!parsed.success) return parsed.error.issues.map((i) => ({ path: ["apple", ...i.path.map(String)].join("."), message: i.message }));
  return checkDesignForTemplate(parsed.data, { passType: body.passType, fields: body.fields });
}

/**
 * The body without `apple.images`, and those images as PNG bytes. Call after `checkAppleTemplate`
 * accepted the body.
 */
export function takeAppleImages<B extends TemplateInput>(body: B): { body: B; images: Record<string, Uint8Array> } {
  if (!body.apple || !Object.hasOwn(body.apple, "images")) return { body, images: {} };
  const { images } = splitDesignImages(appleDesign.parse(body.apple));
  const { images: _lifted, ...rest } = body.apple;
  return { body: { ...body, apple: rest }, images: decodeDesignImages(images) };
}

/** The stored design, parsed (colours normalised, defaults applied); `{}` when the template has none. */
export function storedDesign(template: Pick<TemplateRecord, "id" | "apple">): AppleDesignCore {
  if (!template.apple) return {};
  const parsed = appleDesign.safeParse(template.apple);
  if (!parsed.success) throw new AppError("internal", `Template ${template.id} has an Apple design this version cannot read; save the template again.`);
  return splitDesignImages(parsed.data).core;
}
