/**
 * @module passes/wallet-reads
 * Reads the wallets need and the admin API does not: a pass with its template in one query, by id or
 * by serial number (the Apple web service names passes by serial). Wallets never write pass rows; a
 * holder event goes through `emitHolderEvent`.
 */
import { getDb } from "../db/client";
import { findPassWithTemplate } from "../db/queries/passes";
import type { PassRecord, TemplateRecord } from "../db/schema";

export interface WalletPass {
  pass: PassRecord;
  template: TemplateRecord;
}

/** The pass (any project) and its template, or null. Callers check the project themselves. */
export async function walletPass(env: Pick<Env, "DB">, ref: { passId: number } | { serialNumber: string }): Promise<WalletPass | null> {
  return findPassWithTemplate(getDb(env.DB), ref);
}
