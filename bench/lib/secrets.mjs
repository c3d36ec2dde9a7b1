/** Test-only secrets for the bench's runtimes (never production values). */
export const SECRETS = {
  ADMIN_TOKEN: "bench-admin-token",
  MASTER_KEY: "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nLTA=",
};
