/**
 * @module apple/design-check
 * A parsed `apple` design against the template it belongs to: every referenced key is one of the
 * template's fields, the placement fits the style's limits (apple-wallet.md §2.2), the images are ones
 * the style shows, personalization sits on an NFC store card (§1.6). Pure.
 */
import type { FieldDef } from "../db/schema";
import type { FieldIssue } from "../lib/errors";
import {
  imageBaseOf,
  passStyleOf,
  placementLimits,
  PLACEMENTS,
  SHARED_ROW_STYLES,
  SQUARE_BARCODES,
  STYLE_IMAGES,
  type AppleDesignCore,
  type ImageBase,
  type TemplatePassType,
} from "./design";

export interface TemplateShape {
  passType: TemplatePassType;
  fields: readonly FieldDef[];
}

/**
 * Checks a parsed design against its template: every referenced key is a field of the template, the
 * placement fits the style's limits, the expiration field is a date, images are ones the style shows,
 * personalization only on store cards with NFC. Paths start with `apple.` (the template body's key).
 */
export function checkDesignForTemplate(design: AppleDesignCore & { images?: Record<string, string> }, template: TemplateShape): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const style = passStyleOf(template.passType);
  const byKey = new Map(template.fields.map((f) => [f.key, f]));
  const unknown = (path: string, key: string) => {
    if (!byKey.has(key)) issues.push({ path, message: `"${key}" is not a field of this template` });
  };

  const limits = placementLimits(style);
  for (const where of PLACEMENTS) {
    const keys = design.fields?.[where] ?? [];
    keys.forEach((k, i) => unknown(`apple.fields.${where}.${i}`, k));
    if (keys.length > limits[where]) issues.push({ path: `apple.fields.${where}`, message: `a ${style} pass shows at most ${limits[where]} ${where} field(s)` });
  }
  const square = design.barcode ? SQUARE_BARCODES.includes(design.barcode.format) : false;
  const rows = (design.fields?.secondary?.length ?? 0) + (design.fields?.auxiliary?.length ?? 0);
  if (square && SHARED_ROW_STYLES.includes(style) && rows > 4)
    issues.push({ path: "apple.fields", message: `a ${style} pass with a square barcode shows at most 4 secondary and auxiliary fields together` });

  if (design.barcode) {
    unknown("apple.barcode.field", design.barcode.field);
    if (design.barcode.altTextField) unknown("apple.barcode.altTextField", design.barcode.altTextField);
  }
  for (const key of Object.keys(design.changeMessages ?? {})) unknown(`apple.changeMessages.${key}`, key);
  if (design.expirationField) {
    unknown("apple.expirationField", design.expirationField);
    const def = byKey.get(design.expirationField);
    if (def && def.type !== "date") issues.push({ path: "apple.expirationField", message: `"${def.key}" must be a date field` });
  }
  if (design.transitType && style !== "boardingPass")
    issues.push({ path: "apple.transitType", message: "only boarding passes have a transit type" });
  if (design.groupingIdentifier && style !== "eventTicket" && style !== "boardingPass")
    issues.push({ path: "apple.groupingIdentifier", message: "only event tickets and boarding passes are grouped" });

  const allowed = new Set<ImageBase>([...STYLE_IMAGES[style], ...(design.personalization ? (["personalizationLogo"] as const) : [])]);
  for (const name of Object.keys(design.images ?? {})) {
    const base = imageBaseOf(name);
    if (base && !allowed.has(base)) issues.push({ path: `apple.images.${name}`, message: `a ${style} pass does not show ${base} images` });
  }
  if (style === "eventTicket" && design.images && Object.keys(design.images).some((n) => imageBaseOf(n) === "strip")) {
    // §2.2: on event tickets a strip image excludes background and thumbnail.
    for (const name of Object.keys(design.images))
      if (["background", "thumbnail"].includes(imageBaseOf(name) ?? ""))
        issues.push({ path: `apple.images.${name}`, message: "an event ticket with a strip image cannot also have background or thumbnail images" });
  }

  if (design.personalization) {
    // §1.6: rewards enrollment is for NFC-enabled store cards; Wallet ignores personalization.json otherwise.
    if (style !== "storeCard") issues.push({ path: "apple.personalization", message: "only loyalty and store card passes can ask holders to sign up" });
    if (!design.nfc) issues.push({ path: "apple.personalization", message: "needs apple.nfc: Apple offers sign-up only on NFC-enabled passes" });
  }
  return issues;
}
