// `npm run receiver`: a tiny local callback server for trying passhook's callbacks. Listens on
// http://127.0.0.1:9000 (PORT to change), prints each delivery, and checks its Standard Webhooks
// signature with the standardwebhooks library when WEBHOOK_SECRET (the whsec_ secret passhook gave
// you at registration) is set. FAIL=503 makes it answer 503 to see retries.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const port = Number(process.env.PORT ?? 9000);
const secret = process.env.WEBHOOK_SECRET;
const fail = process.env.FAIL ? Number(process.env.FAIL) : null;

createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    let verdict = "signature not checked (set WEBHOOK_SECRET)";
    if (secret) {
      try {
        new Webhook(secret).verify(body, req.headers);
        verdict = "signature OK";
      } catch (e) {
        verdict = `signature INVALID (${e.message})`;
      }
    }
    console.log(`${new Date().toISOString()} ${req.method} ${req.url}  webhook-id=${req.headers["webhook-id"]}  ${verdict}`);
    console.log(`  ${body}`);
    res.writeHead(fail ?? 200, { "content-type": "text/plain" });
    res.end(fail ? "failing on purpose" : "ok");
  });
}).listen(port, "127.0.0.1", () => console.log(`receiver listening on http://127.0.0.1:${port}`));
