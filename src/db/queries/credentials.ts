/** Wallet credential rows (schema/wallets.ts). */
import { and, eq } from "drizzle-orm";
import type { Db } from "../client";
import { walletCredentials, type WalletCredentialsRecord, type WalletName } from "../schema";

export async function upsertWalletCredentials(db: Db, row: WalletCredentialsRecord): Promise<void> {
  await db
    .insert(walletCredentials)
    .values(row)
    .onConflictDoUpdate({
      target: [walletCredentials.projectId, walletCredentials.wallet],
      set: { version: row.version, secretEnc: row.secretEnc, summary: row.summary, updatedAt: row.updatedAt },
    });
}

export async function findWalletCredentials(db: Db, projectId: string, wallet: WalletName): Promise<WalletCredentialsRecord | null> {
  const rows = await db
    .select()
    .from(walletCredentials)
    .where(and(eq(walletCredentials.projectId, projectId), eq(walletCredentials.wallet, wallet)))
    .limit(1);
  return rows[0] ?? null;
}

export async function listWalletCredentialSummaries(db: Db, projectId: string) {
  return db
    .select({ wallet: walletCredentials.wallet, summary: walletCredentials.summary, version: walletCredentials.version, updatedAt: walletCredentials.updatedAt })
    .from(walletCredentials)
    .where(eq(walletCredentials.projectId, projectId));
}

export async function deleteWalletCredentials(db: Db, projectId: string, wallet: WalletName): Promise<boolean> {
  const rows = await db
    .delete(walletCredentials)
    .where(and(eq(walletCredentials.projectId, projectId), eq(walletCredentials.wallet, wallet)))
    .returning({ wallet: walletCredentials.wallet });
  return rows.length === 1;
}
