import type { Clock } from '../../core/ports.js';

/** A bearer token as its issuer gave it. */
export interface IssuedToken {
  value: string;
  /** How long it is valid from when it was asked for; null when the issuer did not say. */
  lifetimeMs: number | null;
}

export interface CachedTokenOptions {
  /** Refresh once this share of the lifetime has passed: early enough that a slow issuer or a clock skew never leaves lagbot with an expired token. */
  refreshAt?: number;
  /** Lifetime assumed when the issuer gives none. */
  unknownLifetimeMs?: number;
  /** After a failed refresh while the old token is still valid, wait this long before asking again. */
  retryAfterMs?: number;
}

/**
 * One token shared by every connection to a cluster. kafkajs asks for a token on each
 * connection and each re-authentication; the issuer is asked only when the token is new
 * or near its expiry, and one request is in flight at a time however many ask at once.
 * A refresh that fails while the current token is still valid keeps the current token.
 */
export class CachedToken {
  private current: { value: string; refreshAt: number; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private retryAt = 0;
  private readonly refreshShare: number;
  private readonly unknownLifetimeMs: number;
  private readonly retryAfterMs: number;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    private readonly clock: Clock,
    options: CachedTokenOptions = {},
  ) {
    this.refreshShare = options.refreshAt ?? 0.8;
    this.unknownLifetimeMs = options.unknownLifetimeMs ?? 60_000;
    this.retryAfterMs = options.retryAfterMs ?? 5_000;
  }

  async get(): Promise<string> {
    const now = this.clock.now();
    const current = this.current;
    if (current && now < current.refreshAt) return current.value;
    if (current && now < current.expiresAt && now < this.retryAt) return current.value;
    this.pending ??= this.refresh(now).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async refresh(askedAt: number): Promise<string> {
    try {
      const token = await this.issue();
      const lifetime = token.lifetimeMs ?? this.unknownLifetimeMs;
      this.current = { value: token.value, refreshAt: askedAt + lifetime * this.refreshShare, expiresAt: askedAt + lifetime };
      return token.value;
    } catch (error) {
      const current = this.current;
      if (current && this.clock.now() < current.expiresAt) {
        this.retryAt = this.clock.now() + this.retryAfterMs;
        return current.value;
      }
      throw error;
    }
  }
}
