// Stream tickets for one configuration: a fresh one for every connection attempt, and a
// spare kept fresh in the background (renewed before it expires) for when the API is slow.

import { ApiError } from "./api.js";

// Renew this long before expiry; never use a ticket with less left than USABLE_MS.
const RENEW_BEFORE_MS = 60_000;
const USABLE_MS = 5_000;
const RETRY_MS = 10_000;

export class TicketKeeper {
  /** @param {() => Promise<{ticket: string, expires_at: string}>} mint */
  constructor(mint) {
    this.mint = mint;
    this.current = null; // {ticket, expiresAt, issuedAt}
    this.timer = null;
    this.stopped = false;
  }

  /** A freshly minted ticket; falls back to the spare if minting fails for a passing reason. */
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
    const issuedAt = Date.now();
    const answer = await this.mint();
    const expiresAt = Date.parse(answer.expires_at);
    this.current = { ticket: answer.ticket, expiresAt, issuedAt };
    this.schedule();
    return this.current;
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped || !this.current) return;
    const lifetime = this.current.expiresAt - this.current.issuedAt;
    // A minute before expiry, or at 80 % of short lifetimes.
    const renewIn = Math.max(1_000, Math.min(lifetime - RENEW_BEFORE_MS, lifetime * 0.8));
    this.timer = setTimeout(() => {
      this.renew().catch(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.schedule(), RETRY_MS);
      });
    }, renewIn - (Date.now() - this.current.issuedAt));
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
