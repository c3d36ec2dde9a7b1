/**
 * @module google/resources
 * Which Google Wallet vertical a template becomes, and the REST and JWT names of each
 * (google-wallet.md §2). Pure.
 *
 * | passType     | resource    | why |
 * |--------------|-------------|-----|
 * | loyalty      | loyalty     | same concept: member name, id, points |
 * | coupon       | offer       | Google's offer is the coupon vertical (title, provider, redemption channel) |
 * | eventTicket  | eventTicket | same concept |
 * | generic      | generic     | same concept |
 * | storeCard    | loyalty, or giftCard when the design has a `giftCard` section | Apple's store card covers loyalty, points and gift cards. A Google gift card *requires* a card number, and its balance is money with a currency; a template only has free fields, so the default is the vertical that renders from any fields (loyalty), and a design opts into giftCard by naming the card-number field (and, for a balance, a number field and a currency). |
 * | boardingPass | generic     | Google's flight vertical requires an airline, flight number, origin and destination airports and a scheduled departure on the class, and a passenger name and booking on the object. Templates carry none of those as typed data, so a flight class could not be valid; a generic pass shows the same fields as text modules and barcode. |
 */
import type { PassRecord, PassStatus } from "../db/schema";
import type { GoogleDesign } from "./design";

export type GoogleResource = "loyalty" | "offer" | "eventTicket" | "generic" | "giftCard";
export const GOOGLE_RESOURCES: readonly GoogleResource[] = ["loyalty", "offer", "eventTicket", "generic", "giftCard"];

export interface ResourceNames {
  /** REST collection of classes, e.g. `loyaltyClass` (POST /walletobjects/v1/loyaltyClass). */
  classPath: string;
  objectPath: string;
  /** Keys of the save JWT's `payload` (the `Resources` schema). */
  classesKey: string;
  objectsKey: string;
}

export const RESOURCE_NAMES: Record<GoogleResource, ResourceNames> = {
  loyalty: { classPath: "loyaltyClass", objectPath: "loyaltyObject", classesKey: "loyaltyClasses", objectsKey: "loyaltyObjects" },
  offer: { classPath: "offerClass", objectPath: "offerObject", classesKey: "offerClasses", objectsKey: "offerObjects" },
  eventTicket: { classPath: "eventTicketClass", objectPath: "eventTicketObject", classesKey: "eventTicketClasses", objectsKey: "eventTicketObjects" },
  generic: { classPath: "genericClass", objectPath: "genericObject", classesKey: "genericClasses", objectsKey: "genericObjects" },
  giftCard: { classPath: "giftCardClass", objectPath: "giftCardObject", classesKey: "giftCardClasses", objectsKey: "giftCardObjects" },
};

/** The vertical for a template's pass type (table in the module header). */
export function resourceFor(passType: string, design: Pick<GoogleDesign, "giftCard">): GoogleResource {
  switch (passType) {
    case "loyalty":
      return "loyalty";
    case "coupon":
      return "offer";
    case "eventTicket":
      return "eventTicket";
    case "storeCard":
      return design.giftCard ? "giftCard" : "loyalty";
    case "generic":
    case "boardingPass":
    default:
      return "generic";
  }
}

export type GoogleState = "ACTIVE" | "EXPIRED" | "INACTIVE" | "COMPLETED";

/**
 * Pass status -> object `state` (google-wallet.md §3). Archived wins: an archived pass keeps its last
 * status in passhook but is withdrawn from the holder's active passes. Every state but ACTIVE moves
 * the pass to "Expired passes" on the phone.
 */
export function googleState(pass: Pick<PassRecord, "status" | "archivedAt">): GoogleState {
  if (pass.archivedAt != null) return "INACTIVE";
  const map: Record<PassStatus, GoogleState> = { active: "ACTIVE", expired: "EXPIRED", voided: "INACTIVE", redeemed: "COMPLETED" };
  return map[pass.status];
}
