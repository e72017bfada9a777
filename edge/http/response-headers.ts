/**
 * Adds headers to a response. One this Worker built takes them in place, which spares a copy
 * per request; one from elsewhere (a fetch, the assets) has immutable headers: the first
 * change throws, before anything changed, and a copy takes them instead.
 */
export function withHeaders(response: Response, add: (headers: Headers) => void): Response {
  try {
    add(response.headers);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(response.body, response);
    add(copy.headers);
    return copy;
  }
}
