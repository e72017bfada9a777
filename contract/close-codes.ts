/**
 * WebSocket close codes the backend uses (docs/protocol.md, "Close codes"), read as
 * `CloseCode.policy` after `import * as CloseCode`: one constant each, so a bundle takes only the
 * ones it uses. Clients must not reconnect after a policy close or a 44xx code: trying again
 * would be refused the same way.
 */
export const normal = 1000;
export const unsupportedData = 1003;
export const policy = 1008;
export const tooBig = 1009;
export const internal = 1011;
export const tryAgainLater = 1013;
export const badRequest = 4400;
export const unauthorized = 4401;
export const forbidden = 4403;

/** A policy close or a 44xx code: the client stops, since a retry would be refused the same way. */
export function isTerminalClose(code: number): boolean {
  return code === policy || (code >= 4400 && code <= 4499);
}
