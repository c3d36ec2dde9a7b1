/**
 * @module dashboard/sign-in
 * Sign-in with a project API key and secret (the same check as the REST API's Basic auth), sign-out.
 * Attempts are rate limited per client address (AUTH_RATE_LIMIT); a wrong key or secret gets one
 * message that does not say which was wrong.
 */
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { AUTH_BLOCK_SECONDS, refuseBlockedClient, spendAuthAttempt, verifyKeySecret } from "../projects";
import { isAppError } from "../lib/errors";
import { isLocalRequest, type DashContext, type DashEnv, type ResolvedOptions } from "./context";
import { CSRF_FIELD, SIGN_IN_NONCE_COOKIE, newSignInNonce, sameOrigin, signInToken, tokenMatches } from "./csrf";
import { CsrfRefused, formBody } from "./guard";
import { Document, Notice } from "./layout";
import { clearedSessionCookie, newSession, sealSession, sessionCookie, SESSION_TTL } from "./session";

const REASONS: Record<string, string> = {
  expired: "Your session has expired. Sign in again.",
  revoked: "The API key of your session was deleted. Sign in with another key.",
  "signed-out": "You are signed out.",
};


function SignInPage(props: { token: string; notice?: string; error?: string; key?: string }) {
  return (
    <Document title="Sign in">
      <body>
        <main id="main" class="narrow">
          <h1>Sign in to passhook</h1>
          {props.notice ? <Notice kind="info">{props.notice}</Notice> : null}
          {props.error ? (
            <Notice kind="error">
              <p>{props.error}</p>
            </Notice>
          ) : null}
          <form method="post" action="/dashboard/sign-in" class="stack">
            <input type="hidden" name={CSRF_FIELD} value={props.token} />
            <label for="key">API key</label>
            <input id="key" name="key" required autocomplete="username" spellcheck={false} value={props.key ?? ""} placeholder="pk_…" />
            <label for="secret">API secret</label>
            <input id="secret" name="secret" type="password" required autocomplete="current-password" placeholder="sk_…" />
            <button type="submit">Sign in</button>
          </form>
          <p class="hint">Use a project API key and its secret (the same pair as HTTP Basic auth on the API).</p>
        </main>
      </body>
    </Document>
  );
}

async function renderSignIn(c: DashContext, status: number, extra: { notice?: string; error?: string; key?: string } = {}) {
  const nonce = newSignInNonce();
  const secure = !isLocalRequest(c.req.url);
  c.header("Set-Cookie", `${SIGN_IN_NONCE_COOKIE}=${nonce}; Path=/dashboard; Max-Age=3600; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`, { append: true });
  return c.html(<SignInPage token={await signInToken(c.env, nonce)} {...extra} />, status as 200);
}

export function signInRoutes(opts: ResolvedOptions) {
  return new Hono<DashEnv>()
    .get("/sign-in", (c) => renderSignIn(c, 200, { notice: REASONS[c.req.query("reason") ?? ""] }))
    .post("/sign-in", formBody, async (c) => {
      const form = c.get("form");
      const nonce = getCookie(c, SIGN_IN_NONCE_COOKIE);
      if (!sameOrigin(c.req.raw)) throw new CsrfRefused("cross_site");
      if (!nonce || !(await tokenMatches(form.get(CSRF_FIELD), await signInToken(c.env, nonce)))) throw new CsrfRefused("bad_token");

      // Every attempt spends the client's guessing budget, which the REST API's wrong credentials share.
      const ip = c.req.header("cf-connecting-ip") ?? "local";
      try {
        refuseBlockedClient(ip);
        await spendAuthAttempt(c.env, ip);
      } catch (e) {
        if (!isAppError(e) || e.code !== "rate_limited") throw e;
        c.header("Retry-After", String(AUTH_BLOCK_SECONDS));
        return renderSignIn(c, 429, { error: "Too many sign-in attempts from your address. Wait a minute, then try again." });
      }
      const key = (form.get("key") ?? "").trim();
      const r = await verifyKeySecret(c.env, key, form.get("secret") ?? "");
      if (!r.ok) {
        console.log(JSON.stringify({ msg: "dashboard sign-in failed", reason: r.error.reason }));
        return renderSignIn(c, 401, { error: "That API key and secret do not match. Check both and try again.", key: key.slice(0, 200) });
      }
      const secure = !isLocalRequest(c.req.url);
      const session = newSession(r.value.projectId, r.value.key, opts.now());
      c.header("Set-Cookie", sessionCookie(await sealSession(c.env, session), secure, SESSION_TTL / 1000), { append: true });
      c.header("Set-Cookie", `${SIGN_IN_NONCE_COOKIE}=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`, { append: true });
      return c.redirect("/dashboard/integrations", 303);
    });
}

/** Sign-out is a POST behind the session guard (so it is CSRF-checked); it clears the cookie. */
export function signOut(c: DashContext) {
  c.header("Set-Cookie", clearedSessionCookie(!isLocalRequest(c.req.url)), { append: true });
  return c.redirect("/dashboard/sign-in?reason=signed-out", 303);
}
