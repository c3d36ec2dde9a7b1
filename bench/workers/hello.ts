/** Ceiling 1: the cheapest Worker the runtime can serve. Same Miniflare setup as passhook, no bindings. */
export default {
  fetch(): Response {
    return new Response("Hello World!");
  },
} satisfies ExportedHandler;
