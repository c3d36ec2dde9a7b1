/**
 * @module google/class-body
 * The class body of a template, per vertical, with the fields Google marks "Required" in the
 * walletobjects v1 discovery document: loyalty (issuerName, programName, programLogo,
 * reviewStatus), offer (issuerName, title, provider, redemptionChannel, reviewStatus), event ticket
 * (issuerName, eventName, reviewStatus), gift card (issuerName, reviewStatus), generic (id only;
 * its look lives on the object). Written with `update` (PUT) semantics: the body is the whole class.
 *
 * `reviewStatus` is always UNDER_REVIEW: Google approves it automatically, a DRAFT class cannot issue
 * objects, and approved classes keep receiving UNDER_REVIEW on updates (google-wallet.md §2).
 */
import { type Body, type BuildContext, type TemplateLike, defined, image, localized } from "./body-parts";
import type { GoogleDesign } from "./design";
import { googleClassId } from "./ids";
import { resourceFor } from "./resources";

export function classBody(template: TemplateLike, design: GoogleDesign, ctx: BuildContext): Body {
  const resource = resourceFor(template.passType, design);
  const id = googleClassId(ctx.issuerId, ctx.projectId, template.id);
  const issuerName = design.issuerName ?? ctx.issuerName;
  const title = design.title ?? template.name;
  const label = (key: string | undefined) => template.fields.find((f) => f.key === key)?.label;
  const common: Body = { id };
  if (ctx.callbackUrl) common.callbackOptions = { url: ctx.callbackUrl };
  const look: Body = {};
  if (design.hexBackgroundColor) look.hexBackgroundColor = design.hexBackgroundColor;
  if (design.heroImageUri) look.heroImage = image(design.heroImageUri);
  if (design.homepageUri) look.homepageUri = { uri: design.homepageUri, description: issuerName.slice(0, 20) };

  switch (resource) {
    case "loyalty": {
      const l = design.loyalty ?? {};
      return {
        ...common,
        issuerName,
        programName: title,
        programLogo: image(design.logoUri ?? ctx.defaultLogoUri, issuerName, design),
        reviewStatus: "UNDER_REVIEW",
        ...look,
        ...defined({ accountNameLabel: label(l.accountNameField), accountIdLabel: label(l.accountIdField), rewardsTierLabel: label(l.rewardsTierField) }),
      };
    }
    case "offer": {
      const o = design.offer;
      return {
        ...common,
        issuerName,
        title,
        provider: o?.provider ?? issuerName,
        redemptionChannel: o?.redemptionChannel ?? "BOTH",
        reviewStatus: "UNDER_REVIEW",
        ...(design.logoUri ? { titleImage: image(design.logoUri, issuerName, design) } : {}),
        ...look,
        ...defined({ details: o?.details, finePrint: o?.finePrint }),
      };
    }
    case "eventTicket": {
      const e = design.eventTicket;
      return {
        ...common,
        issuerName,
        eventName: localized(title, design),
        reviewStatus: "UNDER_REVIEW",
        ...(design.logoUri ? { logo: image(design.logoUri, issuerName, design) } : {}),
        ...(e?.venueName && e.venueAddress ? { venue: { name: localized(e.venueName, design), address: localized(e.venueAddress, design) } } : {}),
        ...look,
      };
    }
    case "giftCard": {
      const g = design.giftCard!;
      return {
        ...common,
        issuerName,
        merchantName: title,
        programLogo: image(design.logoUri ?? ctx.defaultLogoUri, issuerName, design),
        reviewStatus: "UNDER_REVIEW",
        ...look,
        ...defined({ cardNumberLabel: label(g.cardNumberField), pinLabel: label(g.pinField) }),
      };
    }
    case "generic":
      // GenericClass has no issuer name, colour or images: those are object fields.
      return design.homepageUri ? { ...common, linksModuleData: { uris: [{ uri: design.homepageUri, description: issuerName.slice(0, 20), id: "homepage" }] } } : common;
  }
}
