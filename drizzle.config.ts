// drizzle-kit generates SQL migrations from src/db/schema; wrangler and the tests apply them.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
