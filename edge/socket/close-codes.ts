/**
 * WebSocket close codes the backend uses (documented in docs/protocol.md). Clients must not
 * reconnect after a policy close or a 44xx code: trying again would be refused the same way.
 */
export const CloseCode = {
  normal: 1000,
  unsupportedData: 1003,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
} as const;

