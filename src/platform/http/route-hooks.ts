/**
 * A route's hooks (`route.onRequest`, `route.onResponse`…) with `hook` added last, for an
 * `onRoute` hook to assign. Always a new array: Fastify copies a GET route's options for its HEAD
 * route, which must not get the hook twice through a shared array.
 */
export function withRouteHook<H>(existing: H | H[] | undefined, hook: NoInfer<H>): H[] {
  return existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
}
