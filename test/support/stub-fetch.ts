/**
 * The page's unit tests (web/src in plain node): `fetch` answers with these responses in turn,
 * and the calls it got ("GET https://…") are recorded. Restore with jest.restoreAllMocks().
 */
export function answers(...responses: Array<() => Response>): string[] {
  const calls: string[] = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (url, init) => {
    calls.push(`${init?.method} ${String(url)}`);
    const next = responses.shift();
    if (!next) throw new Error('no more answers');
    return next();
  });
  return calls;
}
