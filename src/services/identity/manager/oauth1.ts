import { randomInt } from "node:crypto";
import { isoMicro } from "../../../common/clock.js";
import { BadRequest, Forbidden, NotFound, Unauthorized } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import type { IdentityCore } from "../core.js";
import * as sig from "../oauth1/signature.js";
import type { IdentityTrx, OAuthAccessTokenRow, OAuthConsumerRow, OAuthRequestTokenRow, Q, RoleRow } from "../store/tables.js";
import { json } from "../store/tables.js";
import type { TokenData } from "../tokens/provider.js";
import type { AssignmentManager } from "./assignment.js";
import type { AuthHttp, MethodResult } from "./auth.js";

/** keystone.conf [oauth1] defaults, in seconds (0 would mean "never expires"). */
const REQUEST_TOKEN_DURATION = 28800;
const ACCESS_TOKEN_DURATION = 86400;
/** oauthlib's RequestValidator.timestamp_lifetime. */
const TIMESTAMP_LIFETIME = 600;
/** keystone/oauth1/backends/base.py: letters and digits without the easily confused ones. */
const VERIFIER_CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"].filter((c) => !"jiIl1oO0".includes(c));
/** Methods Keystone counts as primary (api/_shared/delegation.py); anything else is delegation. */
const PRIMARY_METHODS = new Set(["external", "kerberos", "mapped", "openid", "password", "saml2", "token", "totp", "x509"]);

export interface ConsumerInput {
  description?: string | null;
  [extra: string]: unknown;
}

/** What a token request answers, form-encoded (oauth_token=…&oauth_token_secret=…). */
export interface IssuedOAuthToken {
  id: string;
  secret: string;
  expiresAt: string | null;
}

/** An oauthlib OAuth1Error: Keystone shows it as a 400 naming the error and its description. */
class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

function invalidRequest(description: string): OAuthError {
  return new OAuthError("invalid_request", description);
}

function validation(attribute: string, target: string): BadRequest {
  return new BadRequest(
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is ` +
      "either malformed or otherwise incorrect. The client is assumed to be in error.",
  );
}

/** keystone.oauth1.core.validate_oauth_params: how an oauthlib failure reaches the client. */
function asValidationError(e: OAuthError): BadRequest {
  return new BadRequest(`Validation failed with errors: ${e.error}, detail message is: ${e.description}.`);
}

/** Keystone's Unauthorized is a SecurityError: the detail never reaches the client. */
function unauthorized(): Unauthorized {
  return new Unauthorized("The request you have made requires authentication.");
}

function header(http: AuthHttp, name: string): string | undefined {
  const v = http.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Keystone's check_* on ids it generates: 32 lower-case hex digits. */
const isHexToken = (s: string): boolean => /^[0-9a-f]{32}$/.test(s);

/** A request as oauthlib sees it once its OAuth parameters are collected. */
interface SignedRequest {
  /** Raw Authorization parameters (keystone.oauth1.core.get_oauth_headers). */
  header: Map<string, string>;
  /** Every signed parameter, oauth_signature excluded later. */
  params: Array<[string, string]>;
  oauth: Map<string, string>;
  uris: string[];
  method: string;
}

/**
 * get_oauth_headers. Keystone answers 500 when the header is missing or malformed (an
 * UnexpectedError); a 400 naming the header says the same without a server error.
 */
function oauthHeaders(http: AuthHttp): Map<string, string> {
  const raw = header(http, "authorization");
  const parsed = raw === undefined ? undefined : sig.parseAuthorizationHeader(raw);
  if (!parsed) throw validation("Authorization", "request");
  return new Map(parsed);
}

/** The URIs the client may have signed: the one it connected to, and the cloud's public one. */
function candidateUris(http: AuthHttp, path: string): string[] {
  const base = new URL(http.baseUrl);
  const out = new Set<string>();
  const host = header(http, "host");
  const paths = new Set([path, path.replace(/\/{2,}/g, "/")]);
  for (const p of paths) {
    if (host) out.add(`${base.protocol}//${host}${p}`);
    out.add(`${base.origin}${p}`);
  }
  return [...out];
}

/** oauthlib BaseEndpoint._create_request. */
function createRequest(http: AuthHttp, hdr: Map<string, string>): SignedRequest {
  const q = http.url.indexOf("?");
  const path = q < 0 ? http.url : http.url.slice(0, q);
  const query = sig.parseQuery(q < 0 ? "" : http.url.slice(q + 1));
  const headerParams = [...hdr];
  const fromHeader = headerParams.some(([k]) => k.startsWith("oauth_"));
  const fromQuery = query.some(([k]) => k.startsWith("oauth_"));
  if (fromHeader && fromQuery) {
    throw invalidRequest("oauth_ params must come from only 1 signature type but were found in AUTH_HEADER, QUERY");
  }
  const params = sig.collectParameters(headerParams, query);
  const oauth = new Map(params.filter(([k]) => k.startsWith("oauth_")));
  if (!fromHeader && !fromQuery) throw invalidRequest("Missing mandatory OAuth parameters.");
  return { header: hdr, params, oauth, uris: candidateUris(http, path), method: http.method };
}

/** oauthlib BaseEndpoint._check_mandatory_parameters with Keystone's validator. */
function checkMandatory(r: SignedRequest): void {
  // Clients stamp requests with their wall clock, so that is what the stamp is checked against
  // (as oauthlib does with time.time()), not the cloud's injectable clock.
  const now = new Date();
  const get = (k: string): string | undefined => r.oauth.get(k);
  const method = get("oauth_signature_method");
  const timestamp = get("oauth_timestamp");
  const nonce = get("oauth_nonce");
  const clientKey = get("oauth_consumer_key");
  if (!get("oauth_signature") || !clientKey || !nonce || !timestamp || !method) {
    throw invalidRequest("Missing mandatory OAuth parameters.");
  }
  if (!sig.SIGNATURE_METHODS.includes(method)) {
    throw new OAuthError(
      "invalid_signature_method",
      `Invalid signature, ${method} not in ${JSON.stringify(sig.SIGNATURE_METHODS).replaceAll('"', "'").replaceAll(",", ", ")}.`,
    );
  }
  const version = get("oauth_version");
  if (version !== undefined && version !== "1.0") throw invalidRequest("Invalid OAuth version.");
  if (timestamp.length !== 10) throw invalidRequest("Invalid timestamp size");
  if (!/^[+-]?\d+$/.test(timestamp.trim())) throw invalidRequest("Timestamp must be an integer.");
  if (Math.abs(now.getTime() / 1000 - Number.parseInt(timestamp, 10)) > TIMESTAMP_LIFETIME) {
    throw invalidRequest(`Timestamp given is invalid, differ from allowed by over ${TIMESTAMP_LIFETIME} seconds.`);
  }
  if (!isHexToken(clientKey)) throw invalidRequest("Invalid client key format.");
  if (![...nonce].every((c) => "abcdef0123456789".includes(c))) throw invalidRequest("Invalid nonce format.");
}

/** api/_shared/delegation.py: a trust token, or one with a non-primary method, is delegation. */
export function isDelegated(caller: { methods: readonly string[]; trustId?: string }): boolean {
  return caller.trustId !== undefined || caller.methods.length === 0 || caller.methods.some((m) => !PRIMARY_METHODS.has(m));
}

function expired(expiresAt: string | null, now: Date): boolean {
  return expiresAt !== null && new Date(expiresAt).getTime() < now.getTime();
}

function verifier(): string {
  // random.sample: eight distinct characters.
  const pool = [...VERIFIER_CHARS];
  let out = "";
  for (let i = 0; i < 8; i++) out += pool.splice(randomInt(pool.length), 1)[0]!;
  return out;
}

/**
 * OS-OAUTH1 (keystone/oauth1/ and api/os_oauth1.py): consumers, the three-legged flow that
 * turns a consumer's signed requests and a user's authorization into an access token, and the
 * "oauth1" auth method that trades a signed request with that access token for a project
 * token limited to the delegated roles.
 */
export class OAuth1Manager {
  constructor(
    private readonly core: IdentityCore,
    private readonly assignments: AssignmentManager,
  ) {}

  // ---- consumers ---------------------------------------------------------------------------

  async createConsumer(input: ConsumerInput): Promise<OAuthConsumerRow> {
    const { id: _id, description, secret: _secret, links: _links, ...extra } = input;
    const row: OAuthConsumerRow = {
      id: hexId(),
      description: (description as string | null | undefined) ?? null,
      secret: hexId(),
      extra: JSON.stringify(extra),
    };
    await this.core.write((trx) => trx.insertInto("oauth_consumer").values(row).execute());
    return row;
  }

  async listConsumers(): Promise<OAuthConsumerRow[]> {
    return this.core.db.selectFrom("oauth_consumer").selectAll().orderBy("id").execute();
  }

  async getConsumer(id: string, q: Q = this.core.db): Promise<OAuthConsumerRow> {
    const c = await q.selectFrom("oauth_consumer").selectAll().where("id", "=", id).executeTakeFirst();
    if (!c) throw new NotFound("Consumer not found");
    return c;
  }

  async updateConsumer(id: string, patch: ConsumerInput): Promise<OAuthConsumerRow> {
    return this.core.write(async (trx) => {
      const cur = await this.getConsumer(id, trx);
      const { id: _id, description, secret: _secret, links: _links, ...extra } = patch;
      const next: OAuthConsumerRow = {
        ...cur,
        description: description === undefined ? cur.description : (description as string | null),
        extra: JSON.stringify({ ...json(cur.extra), ...extra }),
      };
      await trx.updateTable("oauth_consumer").set({ description: next.description, extra: next.extra }).where("id", "=", id).execute();
      return next;
    });
  }

  /** The consumer's request and access tokens go with it, and so do tokens issued from them. */
  async deleteConsumer(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getConsumer(id, trx);
      await trx.deleteFrom("oauth_request_token").where("consumer_id", "=", id).execute();
      await trx.deleteFrom("oauth_access_token").where("consumer_id", "=", id).execute();
      await trx.deleteFrom("oauth_consumer").where("id", "=", id).execute();
    });
  }

  // ---- request tokens ----------------------------------------------------------------------

  private async getRequestToken(id: string, q: Q = this.core.db): Promise<OAuthRequestTokenRow> {
    const t = await q.selectFrom("oauth_request_token").selectAll().where("id", "=", id).executeTakeFirst();
    if (!t) throw new NotFound("Request token not found");
    return t;
  }

  /** POST /v3/OS-OAUTH1/request_token: signed by the consumer alone. */
  async createRequestToken(http: AuthHttp): Promise<IssuedOAuthToken> {
    const hdr = oauthHeaders(http);
    const consumerId = hdr.get("oauth_consumer_key");
    const projectId = header(http, "requested-project-id");
    if (!consumerId) throw validation("oauth_consumer_key", "request");
    if (!projectId) throw validation("Requested-Project-Id", "request");
    const project = await this.core.db.selectFrom("project").select("id").where("id", "=", projectId).executeTakeFirst();
    if (!project) throw new NotFound(`Could not find project: ${projectId}.`);
    const consumer = await this.getConsumer(consumerId);
    const now = this.core.now();
    try {
      const r = createRequest(http, hdr);
      checkMandatory(r);
      const realm = r.header.get("realm");
      if (realm) {
        const realms = realm.split(" ");
        throw invalidRequest(`Invalid realm ${JSON.stringify(realms).replaceAll('"', "'")}. Allowed are [].`);
      }
      if (!r.oauth.get("oauth_callback")) throw invalidRequest("Missing callback URI.");
      const ok = sig.verify(
        r.oauth.get("oauth_signature_method")!,
        r.method,
        r.uris,
        r.params,
        r.oauth.get("oauth_signature")!,
        consumer.secret,
        undefined,
      );
      if (!ok) throw unauthorized();
    } catch (e) {
      if (e instanceof OAuthError) throw asValidationError(e);
      throw e;
    }
    const row: OAuthRequestTokenRow = {
      id: hexId(),
      request_secret: hexId(),
      verifier: null,
      authorizing_user_id: null,
      requested_project_id: projectId,
      role_ids: null,
      consumer_id: consumer.id,
      expires_at: isoMicro(new Date(now.getTime() + REQUEST_TOKEN_DURATION * 1000)),
    };
    await this.core.write((trx) => trx.insertInto("oauth_request_token").values(row).execute());
    return { id: row.id, secret: row.request_secret, expiresAt: row.expires_at };
  }

  /**
   * PUT /v3/OS-OAUTH1/authorize/{id}: the caller delegates roles it holds on the requested
   * project. Roles are given by id (taken as they are) or by the name of a global role.
   */
  async authorizeRequestToken(
    requestTokenId: string,
    roles: ReadonlyArray<{ id?: string; name?: string }>,
    caller: { userId: string; methods: readonly string[]; trustId?: string },
  ): Promise<string> {
    if (isDelegated(caller)) {
      throw new Forbidden("You are not authorized to perform the requested action.");
    }
    const req = await this.getRequestToken(requestTokenId);
    const now = this.core.now();
    if (expired(req.expires_at, now)) throw unauthorized();
    const wanted = new Set<string>();
    for (const r of roles) {
      if (r.id) {
        wanted.add(r.id);
      } else {
        const role = await this.assignments.findRoleByName(r.name!, null);
        if (!role) throw new NotFound(`Could not find role: ${r.name!}.`);
        wanted.add(role.id);
      }
    }
    const held = new Set((await this.assignments.effectiveProjectRoles(caller.userId, req.requested_project_id)).map((r) => r.id));
    for (const r of wanted) if (!held.has(r)) throw unauthorized();
    const v = verifier();
    await this.core.write(async (trx) => {
      await this.getRequestToken(requestTokenId, trx);
      await trx
        .updateTable("oauth_request_token")
        .set({ authorizing_user_id: caller.userId, verifier: v, role_ids: JSON.stringify([...wanted]) })
        .where("id", "=", requestTokenId)
        .execute();
    });
    return v;
  }

  // ---- access tokens -----------------------------------------------------------------------

  async getAccessToken(id: string, q: Q = this.core.db): Promise<OAuthAccessTokenRow> {
    const t = await q.selectFrom("oauth_access_token").selectAll().where("id", "=", id).executeTakeFirst();
    if (!t) throw new NotFound("Access token not found");
    return t;
  }

  /** POST /v3/OS-OAUTH1/access_token: signed with the consumer and the authorized request token. */
  async createAccessToken(http: AuthHttp): Promise<IssuedOAuthToken> {
    const hdr = oauthHeaders(http);
    const consumerId = hdr.get("oauth_consumer_key");
    const requestTokenId = hdr.get("oauth_token");
    const oauthVerifier = hdr.get("oauth_verifier");
    if (!consumerId) throw validation("oauth_consumer_key", "request");
    if (!requestTokenId) throw validation("oauth_token", "request");
    if (!oauthVerifier) throw validation("oauth_verifier", "request");
    const req = await this.getRequestToken(requestTokenId);
    const now = this.core.now();
    if (expired(req.expires_at, now)) throw unauthorized();
    try {
      const r = createRequest(http, hdr);
      checkMandatory(r);
      const token = r.oauth.get("oauth_token");
      if (!token) throw invalidRequest("Missing resource owner.");
      if (!isHexToken(token)) throw invalidRequest("Invalid resource owner key format.");
      const v = r.oauth.get("oauth_verifier");
      if (!v) throw invalidRequest("Missing verifier.");
      if (v.length !== 8 || ![...v].every((c) => VERIFIER_CHARS.includes(c))) throw invalidRequest("Invalid verifier format.");
      const consumer = await this.core.db.selectFrom("oauth_consumer").selectAll().where("id", "=", r.oauth.get("oauth_consumer_key")!).executeTakeFirst();
      // Keystone has no dummy client or request token: an unknown consumer, or a request
      // token of another consumer, is a plain 401.
      if (!consumer || req.consumer_id !== consumer.id) throw unauthorized();
      const ok = sig.verify(
        r.oauth.get("oauth_signature_method")!,
        r.method,
        r.uris,
        r.params,
        r.oauth.get("oauth_signature")!,
        consumer.secret,
        req.request_secret,
      );
      if (!ok || req.verifier !== v) throw unauthorized();
    } catch (e) {
      if (e instanceof OAuthError) throw asValidationError(e);
      throw e;
    }
    if (!req.authorizing_user_id) throw unauthorized();
    const row: OAuthAccessTokenRow = {
      id: hexId(),
      access_secret: hexId(),
      authorizing_user_id: req.authorizing_user_id,
      project_id: req.requested_project_id,
      role_ids: req.role_ids ?? "[]",
      consumer_id: req.consumer_id,
      expires_at: isoMicro(new Date(now.getTime() + ACCESS_TOKEN_DURATION * 1000)),
    };
    await this.core.write(async (trx) => {
      // A request token is exchanged once.
      const gone = await trx.deleteFrom("oauth_request_token").where("id", "=", req.id).executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw new NotFound("Request token not found");
      await trx.insertInto("oauth_access_token").values(row).execute();
    });
    return { id: row.id, secret: row.access_secret, expiresAt: row.expires_at };
  }

  async listAccessTokens(userId: string): Promise<OAuthAccessTokenRow[]> {
    return this.core.db.selectFrom("oauth_access_token").selectAll().where("authorizing_user_id", "=", userId).orderBy("id").execute();
  }

  /** Deleting an access token invalidates every token issued with it (see tokenHook). */
  async deleteAccessToken(userId: string, id: string): Promise<void> {
    await this.core.write(async (trx) => {
      const t = await this.getAccessToken(id, trx);
      if (t.authorizing_user_id !== userId) throw unauthorized();
      await trx.deleteFrom("oauth_access_token").where("id", "=", id).execute();
    });
  }

  /** The delegated roles of an access token that still exist, as Keystone lists them. */
  async accessTokenRoles(t: OAuthAccessTokenRow): Promise<RoleRow[]> {
    const ids = json<string[]>(t.role_ids);
    if (!Array.isArray(ids) || ids.length === 0) return [];
    const rows = await this.core.db.selectFrom("role").selectAll().where("id", "in", ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((i) => byId.get(i)).filter((r): r is RoleRow => r !== undefined);
  }

  // ---- the "oauth1" auth method and its tokens ---------------------------------------------

  /** keystone/auth/plugins/oauth1.py: a request signed with the access token proves the user. */
  async authenticate(http: AuthHttp | undefined): Promise<MethodResult> {
    if (!http) throw unauthorized();
    const hdr = oauthHeaders(http);
    const accessTokenId = hdr.get("oauth_token");
    if (!accessTokenId) throw validation("oauth_token", "request");
    const at = await this.getAccessToken(accessTokenId);
    const now = this.core.now();
    if (expired(at.expires_at, now)) throw unauthorized();
    let ok = false;
    try {
      const r = createRequest({ ...http, method: "POST" }, hdr);
      checkMandatory(r);
      const token = r.oauth.get("oauth_token");
      if (token && isHexToken(token)) {
        const consumer = await this.core.db.selectFrom("oauth_consumer").selectAll().where("id", "=", r.oauth.get("oauth_consumer_key")!).executeTakeFirst();
        if (consumer) {
          ok = sig.verify(
            r.oauth.get("oauth_signature_method")!,
            r.method,
            r.uris,
            r.params,
            r.oauth.get("oauth_signature")!,
            consumer.secret,
            at.access_secret,
          );
        }
      }
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
    }
    if (!ok) throw unauthorized();
    return { userId: at.authorizing_user_id, accessTokenId: at.id, forcedScope: { kind: "project", id: at.project_id } };
  }

  /**
   * Token validation: a token minted from an access token lives only as long as the access
   * token, stays on its project, and carries only the delegated roles (with the roles they
   * imply) that the user still holds there. Keystone adds "OS-OAUTH1" to the token body.
   */
  async tokenHook(q: Q, t: TokenData): Promise<void> {
    const atId = t.payload.accessTokenId;
    if (!atId) return;
    const at = await q.selectFrom("oauth_access_token").selectAll().where("id", "=", atId).executeTakeFirst();
    if (!at) throw new NotFound("Could not find token.");
    if (t.payload.scope.kind !== "project" || t.payload.scope.id !== at.project_id) throw new NotFound("Could not find token.");
    const delegated = await this.assignments.expand(json<string[]>(at.role_ids), q);
    t.roles = t.roles.filter((r) => delegated.has(r.id));
    t.extras["OS-OAUTH1"] = { access_token_id: at.id, consumer_id: at.consumer_id };
  }

  // ---- cascades ----------------------------------------------------------------------------

  async deleteForUser(trx: IdentityTrx, userId: string): Promise<void> {
    await trx.deleteFrom("oauth_access_token").where("authorizing_user_id", "=", userId).execute();
    await trx.deleteFrom("oauth_request_token").where("authorizing_user_id", "=", userId).execute();
  }

  async deleteForProject(trx: IdentityTrx, projectId: string): Promise<void> {
    await trx.deleteFrom("oauth_access_token").where("project_id", "=", projectId).execute();
    await trx.deleteFrom("oauth_request_token").where("requested_project_id", "=", projectId).execute();
  }
}

