/** Why a delivery to lagbot never got an HTTP answer, in words for the person at the page. */
export function unreachableReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return 'lagbot did not answer in time (is it stuck?)';
  }
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return 'lagbot is not answering (is it restarting?)';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'lagbot dropped the connection (is it restarting?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'lagbot\'s address does not resolve (check the events URL)';
  return `could not reach lagbot: ${innermostMessage(err)}`;
}

/** fetch's own message is just "fetch failed"; the reason sits in its cause. */
function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) {
    e = e.cause;
    if (e instanceof Error && e.message !== '') message = e.message;
    else if (typeof e === 'string') message = e;
  }
  return message;
}

/** fetch wraps the socket error in `cause`; with several addresses tried, in `cause.errors`. */
function errorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') return code;
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}
