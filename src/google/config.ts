/**
 * @module google/config
 * The Google endpoints, from wrangler vars with the real services as defaults (api.md
 * "Configuration"). Tests and local runs point them at fakes. Resolved once, passed down.
 */

export interface GoogleConfig {
  walletApiUrl: string;
  tokenUrl: string;
  callbackKeysUrl: string;
  senderId: string;
}

export const GOOGLE_DEFAULTS: GoogleConfig = {
  walletApiUrl: "https://walletobjects.googleapis.com/walletobjects/v1",
  tokenUrl: "https://oauth2.googleapis.com/token",
  callbackKeysUrl: "https://pay.google.com/gp/m/issuer/keys",
  senderId: "GooglePayPasses",
};

export interface GoogleVars {
  GOOGLE_WALLET_API_URL?: string;
  GOOGLE_OAUTH_TOKEN_URL?: string;
  GOOGLE_CALLBACK_KEYS_URL?: string;
  GOOGLE_CALLBACK_SENDER_ID?: string;
}

const pick = (v: string | undefined, fallback: string) => (v && v.trim() ? v.trim() : fallback);

export function googleConfig(vars: GoogleVars): GoogleConfig {
  return {
    walletApiUrl: pick(vars.GOOGLE_WALLET_API_URL, GOOGLE_DEFAULTS.walletApiUrl).replace(/\/+$/, ""),
    tokenUrl: pick(vars.GOOGLE_OAUTH_TOKEN_URL, GOOGLE_DEFAULTS.tokenUrl),
    callbackKeysUrl: pick(vars.GOOGLE_CALLBACK_KEYS_URL, GOOGLE_DEFAULTS.callbackKeysUrl),
    senderId: pick(vars.GOOGLE_CALLBACK_SENDER_ID, GOOGLE_DEFAULTS.senderId),
  };
}
