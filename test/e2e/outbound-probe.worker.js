/** Fetches the URL in `?to=` and says what came back, or that the fetch was refused. */
export default {
  async fetch(request) {
    const to = new URL(request.url).searchParams.get("to");
    try {
      const response = await fetch(to);
      return Response.json({ status: response.status, body: await response.text() });
    } catch (error) {
      return Response.json({ refused: String(error) });
    }
  },
};
