import { it } from "vitest";
import { startWorker } from "./support/worker";
it("scratch", async () => {
  const w = await startWorker();
  try {
    const r = await fetch(`${w.url}/dashboard/sign-in`, { method: "POST", headers: { origin: w.url, "content-type": "application/x-www-form-urlencoded" }, body: "key=a&secret=b&_csrf=x" });
    console.log(r.status);
  } finally {
    console.log(w.logs().join("\n"));
    await w.stop();
  }
});
