import type { TSchema } from "@sinclair/typebox";
import type { Credentials, PolicyEngine, Scope } from "../auth/policy.js";
import { flattenTarget } from "../auth/policy.js";
import { Unauthorized } from "../common/errors.js";
import type { Microversion } from "./microversion.js";

/** The authenticated caller, built by the identity service from a validated token. */
export interface AuthContext {
  tokenId: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  system: boolean;
  scope: Scope | undefined;
  roles: ReadonlyArray<{ id: string; name: string }>;
  methods: readonly string[];
  auditIds: readonly string[];
  issuedAt: Date;
  expiresAt: Date;
  isAdminProject: boolean;
  trustId?: string;
  trustorId?: string;
  trusteeId?: string;
  appCredId?: string;
  /** Access rules of an application credential, when the token came from one. */
  accessRules?: ReadonlyArray<{ service: string; path: string; method: string }>;
  /** oslo.policy creds derived from the fields above. */
  creds: Credentials;
}

/** Resolves an X-Auth-Token into its caller, or throws Unauthorized/NotFound. */
export interface TokenAuthenticator {
  authenticate(tokenId: string): Promise<AuthContext>;
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "COPY" | "OPTIONS";

export interface Reply {
  status?: number;
  body?: unknown;
  /** A streamed body (image data, objects): piped as is, typed by headers["content-type"]. */
  stream?: NodeJS.ReadableStream;
  /** A non-JSON body sent as is, typed by headers["content-type"] (OAuth1's form-encoded tokens). */
  text?: string;
  /** Bytes sent as is (small Swift objects), typed by headers["content-type"]. */
  buffer?: Buffer;
  headers?: Record<string, string>;
}

export interface Route {
  method: HttpMethod;
  /** Relative to the service prefix, fastify syntax (`/v3/projects/:project_id`). */
  path: string;
  /** api-ref operation name (createProject). */
  operation: string;
  /** The policy rule the handler enforces (documentation and persona tests). */
  policy?: string;
  /**
   * token (default): X-Auth-Token required; none: anonymous; optional: used when sent;
   * delayed: used when valid, and a bad one makes the request anonymous (keystonemiddleware's
   * delay_auth_decision, which Swift runs with so ACLs and temp URLs can let anonymous in).
   */
  auth?: "token" | "none" | "optional" | "delayed";
  body?: TSchema;
  query?: TSchema;
  minVersion?: string;
  maxVersion?: string;
  /**
   * The request body is not parsed: ctx.body is the request stream (undefined when the
   * request has no body), whatever its media type, and the JSON body limit does not apply.
   * For data uploads (Glance image data, Swift objects) that must be streamed, not buffered.
   */
  rawBody?: boolean;
  handler(ctx: RequestContext): Promise<Reply>;
}

export class RequestContext {
  auth: AuthContext | undefined;
  version: Microversion | undefined;
  /** The client's address (Swift's REMOTE_ADDR, for temp URL IP ranges). */
  remoteAddr: string | undefined;
  constructor(
    readonly requestId: string,
    readonly method: string,
    readonly url: string,
    readonly params: Record<string, string>,
    readonly query: Record<string, string | string[] | undefined>,
    readonly body: unknown,
    readonly headers: Record<string, string | string[] | undefined>,
    /** Public base URL of the cloud, e.g. http://127.0.0.1:5000 */
    readonly baseUrl: string,
    /** Base URL of this service, e.g. http://127.0.0.1:5000/identity */
    readonly serviceUrl: string,
    private readonly policy: PolicyEngine,
    private readonly wwwAuthenticate: string,
  ) {}

  /** The caller; routes with auth "token" always have one. */
  get caller(): AuthContext {
    if (!this.auth) throw new Unauthorized(undefined, { "WWW-Authenticate": this.wwwAuthenticate });
    return this.auth;
  }

  header(name: string): string | undefined {
    const v = this.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  /** A single query parameter (the first when repeated). */
  q(name: string): string | undefined {
    const v = this.query[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /** Enforce a policy rule against a nested target (flattened as oslo does). */
  enforce(rule: string, target: Record<string, unknown> = {}): void {
    const caller = this.caller;
    this.policy.enforce(rule, this.policyTarget(target), caller.creds, caller.scope);
  }

  /**
   * Check without throwing (for list filtering). Answers that did not depend on the target
   * are remembered for the rest of the request, so a list of 10,000 items checks an admin's
   * rules once instead of once per item.
   */
  allowed(rule: string, target: Record<string, unknown> = {}): boolean {
    const known = this.targetFree.get(rule);
    if (known !== undefined) return known;
    const caller = this.caller;
    if (!this.policy.scopeAllowed(rule, caller.scope)) return false;
    const { ok, targetRead } = this.policy.checkTracked(rule, this.policyTarget(target), caller.creds);
    if (!targetRead) this.targetFree.set(rule, ok);
    return ok;
  }
  private readonly targetFree = new Map<string, boolean>();

  /** Whether a rule is registered (Neutron skips attribute rules that do not exist). */
  hasRule(rule: string): boolean {
    return this.policy.has(rule);
  }

  /**
   * Keystone's enforce_call puts the URL's path parameters (flask view_args) at the top of the
   * policy dict beside `target`, which is what `user_id:%(user_id)s` (rule:owner) reads.
   */
  private policyTarget(target: Record<string, unknown>): Record<string, unknown> {
    // Lists check several rules per item against one target: flatten each target once.
    let flat = this.flattened.get(target);
    if (!flat) {
      flat = flattenTarget(this.params);
      flattenTarget(target, "", flat);
      this.flattened.set(target, flat);
    }
    return flat;
  }
  private readonly flattened = new WeakMap<Record<string, unknown>, Record<string, unknown>>();
}
