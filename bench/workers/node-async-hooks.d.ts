// The one Node API the instrumented entry uses; workerd provides it (nodejs_compat is on by default
// from the 2026-08-04 compatibility date). Declared here so the bench needs no Node types.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, fn: () => R): R;
  }
}
