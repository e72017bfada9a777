/**
 * A promise that continues in the request that made it, whichever request settles it. Live
 * readers in one isolate wait on events that another request receives (the bridge socket's
 * opener, the reader that started a shared read), and a reader may write its own response only
 * from its own request.
 *
 * workerd tags each promise with the request that created it and, when another request settles
 * it, runs its continuations back in the creator's request. A `new Promise` (or an async
 * function's promise) in code that V8 has optimized carries no tag: a reader waiting on such a
 * promise would continue in the settling request, and its writes would fail ("Cannot perform
 * I/O on behalf of a different request") once its code grew hot, about ten appends into a crowd
 * of a few thousand readers. `Promise.withResolvers` is a call into the runtime's builtin, which
 * always tags.
 */
export function promiseOfThisRequest<T>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

/** `promise`, settled by whichever request, followed from this one: the caller continues here. */
export function inThisRequest<T>(promise: Promise<T>): Promise<T> {
  const own = promiseOfThisRequest<T>();
  promise.then(own.resolve, own.reject);
  return own.promise;
}
