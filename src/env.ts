/** Hono's environment: the Worker bindings (generated `Env`) and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    /** Set by project authentication. */
    projectId: string;
  };
};
