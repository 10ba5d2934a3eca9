/**
 * Credentials of the sandbox: salted scrypt password hashes, HS256 session tokens (JWT) with
 * DreamFactory's claims, the token map (which tokens belong to which user, so that deactivating
 * a user, role or app can revoke them) and the blacklist, all persisted in the system database.
 *
 * @module
 */
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { DfError } from "./http.ts";
import { stmt } from "./statements.ts";

/** Hashes a password as `scrypt$<salt>$<hash>` (base64url). */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N: 1024 });
  return `scrypt$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** Checks a password against a stored hash (constant time). */
export function verifyPassword(password: string, stored: unknown): boolean {
  if (typeof stored !== "string") return false;
  const [scheme, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = scryptSync(password, Buffer.from(salt, "base64url"), expected.length, { N: 1024 });
  return timingSafeEqual(expected, actual);
}

/** The claims of a DreamFactory session token. */
export interface TokenClaims {
  sub: string;
  iss: string;
  iat: number;
  exp: number;
  nbf: number;
  jti: string;
  user_id: number;
  forever: boolean;
}

/** `sub` of a token: md5 of the user's email, re-checked on every request. */
export function subjectOf(email: string): string {
  return createHash("md5").update(String(email)).digest("hex");
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** Signs claims into a compact HS256 JWT. */
export function signToken(claims: TokenClaims, secret: string): string {
  const head = b64({ typ: "JWT", alg: "HS256" }) + "." + b64(claims);
  const sig = createHmac("sha256", secret).update(head).digest("base64url");
  return `${head}.${sig}`;
}

/** Mints a fresh token for a user; records it in the token map so it can be revoked later. */
export function issueToken(
  db: DatabaseSync,
  secret: string,
  user: { id: number; email: string },
  ttlSeconds: number,
  iss: string,
  iat = Math.floor(Date.now() / 1000),
): { token: string; claims: TokenClaims } {
  const now = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: subjectOf(user.email),
    iss,
    iat,
    // Rounded up, so that a token lives at least `ttlSeconds` whatever the sub-second clock.
    exp: Math.ceil(Date.now() / 1000 + ttlSeconds),
    nbf: now,
    jti: randomBytes(12).toString("base64url"),
    user_id: user.id,
    forever: false,
  };
  stmt(db, `INSERT INTO token_map (jti, user_id, exp) VALUES (?, ?, ?)`).run(
    claims.jti,
    user.id,
    claims.exp,
  );
  return { token: signToken(claims, secret), claims };
}

/**
 * Decodes and checks a token's signature and shape (not expiry or blacklist), with the
 * JWT library's messages DreamFactory forwards as "Invalid token: <reason>".
 */
export function decodeToken(token: string, secret: string): TokenClaims {
  const parts = token.split(".");
  let claims: TokenClaims | undefined;
  try {
    if (parts.length !== 3) throw new Error();
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString());
    if (!header || typeof header !== "object" || !claims || typeof claims !== "object") {
      throw new Error();
    }
  } catch {
    throw new DfError(
      401,
      `Invalid token: Could not decode token: The token "${token}" is an invalid JWS`,
    );
  }
  const sig = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], "base64url");
  if (given.length !== sig.length || !timingSafeEqual(given, sig)) {
    throw new DfError(401, "Invalid token: Token Signature could not be verified.");
  }
  for (const k of ["iat", "exp", "sub", "user_id", "jti"] as const) {
    if (claims[k] === undefined) {
      throw new DfError(401, `Invalid token: JWT payload does not contain the required claims`);
    }
  }
  return claims;
}

/** True when the token id was revoked (refresh, logout, deactivation). */
export function isBlacklisted(db: DatabaseSync, jti: string): boolean {
  return !!stmt(db, `SELECT 1 FROM token_blacklist WHERE jti = ?`).get(jti);
}

/** Revokes one token id until it could no longer be refreshed anyway. */
export function blacklist(db: DatabaseSync, jti: string, until: number): void {
  stmt(db, `INSERT OR REPLACE INTO token_blacklist (jti, until) VALUES (?, ?)`).run(jti, until);
  stmt(db, `DELETE FROM token_map WHERE jti = ?`).run(jti);
}

/** Revokes every token issued to the given users (DreamFactory's `invalidateTokenByUserId`). */
export function revokeUserTokens(db: DatabaseSync, userIds: number[], refreshTtl: number): void {
  if (!userIds.length) return;
  const rows = stmt(
    db,
    `SELECT jti, exp FROM token_map WHERE user_id IN (${userIds.map(() => "?").join(",")})`,
  ).all(...userIds) as { jti: string; exp: number }[];
  for (const r of rows) blacklist(db, r.jti, r.exp + refreshTtl);
}

/** Drops blacklist and token-map entries of tokens that are past any refresh window. */
export function pruneTokens(
  db: DatabaseSync,
  refreshTtl: number,
  now = Math.floor(Date.now() / 1000),
): void {
  stmt(db, `DELETE FROM token_blacklist WHERE until < ?`).run(now);
  stmt(db, `DELETE FROM token_map WHERE exp + ? < ?`).run(refreshTtl, now);
}
