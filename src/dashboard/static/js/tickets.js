// Stream tickets for one configuration: a fresh one for every connection attempt.
//
// Tickets live for seconds (STREAM_TICKET_TTL_SECONDS, 30 by default): they travel in the
// stream's URL, so a copy that leaks into a log must be dead by the time anyone reads it
// (docs/deploy.md, "Stream tickets"). Nothing is renewed in the background: a ticket is minted
// when a connection needs one. If minting fails for a passing reason, the last ticket is used
// while it has a few seconds left.

import { ApiError } from "./api.js";

// Never use a ticket with less left than this: the stream must open before it expires.
const USABLE_MS = 5_000;

export class TicketKeeper {
  /** @param {() => Promise<{ticket: string, expires_at: string}>} mint */
  constructor(mint) {
    this.mint = mint;
    this.current = null; // {ticket, expiresAt}
  }

  /** A freshly minted ticket; falls back to the last one if minting fails for a passing reason. */
  async fresh() {
    try {
      return (await this.renew()).ticket;
    } catch (error) {
      const permanent = error instanceof ApiError && [401, 403, 404].includes(error.status);
      if (!permanent && this.current && this.current.expiresAt - Date.now() > USABLE_MS) {
        return this.current.ticket;
      }
      throw error;
    }
  }

  async renew() {
    const answer = await this.mint();
    this.current = { ticket: answer.ticket, expiresAt: Date.parse(answer.expires_at) };
    return this.current;
  }

  stop() {
    this.current = null;
  }
}
