import Fastify, { LogController } from "fastify";
import FindMyWay from "find-my-way";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { PolicyEngine } from "../auth/policy.js";
import { BadRequest, CloudError, MalformedBody, reasonPhrase, InternalError, MethodNotAllowed, NotFound, PayloadTooLarge, UnsupportedMediaType } from "../common/errors.js";
import { uuid } from "../common/ids.js";
import { RequestContext } from "./context.js";
import type { Route, TokenAuthenticator } from "./context.js";
import { negotiate, versionHeaders } from "./microversion.js";
import { compileSchema, validateOrThrow } from "./validation.js";
import type { Validator } from "./validation.js";
import type { ServiceDefinition } from "./service.js";

const NUL_MESSAGE = "Invalid input: the NUL character is not allowed.";

export interface KernelOptions {
  services: readonly ServiceDefinition[];
  authenticator: TokenAuthenticator;
  /** Each service has its own policy engine, as each OpenStack service has its own policy file. */
  policyFor: (svc: ServiceDefinition) => PolicyEngine;
  logger: Logger;
  /** Public base URL; a function because the port is known only after listen(). */
  baseUrl: () => string;
  bodyLimit: number;
}

/** Map fastify's own errors (parser, body size, media type) to CloudErrors. */
function toCloudError(err: unknown): CloudError | undefined {
  if (err instanceof CloudError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PayloadTooLarge("Request is too large.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new UnsupportedMediaType(`Unsupported media type.`);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new MalformedBody();
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new CloudError(e.statusCode, e.message ?? "Bad request.");
  }
  return undefined;
}

export async function buildKernel(opts: KernelOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    // Our own access log (onResponse below) replaces fastify's, which would log headers.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${uuid()}`,
    // A URL the router cannot decode (%zz): our error shape, not fastify's.
    frameworkErrors: (err, req, reply) => {
      reply.header("x-openstack-request-id", req.id);
      void (reply as FastifyReply).code(400).type("application/json").send({ error: { code: 400, title: "Bad Request", message: err.message } });
    },
    // Requests Node's HTTP parser rejects (unknown methods, oversized headers): answered in
    // the same shape on the raw socket.
    clientErrorHandler: (err, socket) => {
      const status = (err as { code?: string }).code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      const body = JSON.stringify({ error: { code: status, title: status === 431 ? "Request Header Fields Too Large" : "Bad Request", message: status === 431 ? "Request headers are too large." : "Malformed HTTP request." } });
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    },
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
  });

  // JSON bodies: an empty body is "no body" (DELETE/POST without payload), anything else
  // must parse; clients that omit the content type still get their JSON read.
  app.removeAllContentTypeParsers();
  const parseJson = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, v?: unknown) => void): void => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    if (text.includes("\\u0000") || text.includes("\0")) return done(new BadRequest(NUL_MESSAGE));
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new MalformedBody());
    }
  };
  app.addContentTypeParser("application/json", { parseAs: "string" }, parseJson);
  // Other media types are not JSON to us (Keystone ignores them): the body stays text, so a
  // route that needs a JSON object answers 400 and an unknown URL still answers 404.
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    done(null, text === "" ? undefined : text);
  });

  for (const m of new Set(opts.services.flatMap((s) => s.extraMethods ?? []))) app.addHttpMethod(m, { hasBody: true });

  // Access log: path only (query strings and bodies may carry secrets), never headers. Not
  // hooked at all when the level drops it (a hook per request costs on the hot paths).
  if (opts.logger.isLevelEnabled("info")) app.addHook("onResponse", async (req, reply) => {
    opts.logger.info(
      { reqId: req.id, method: req.method, path: req.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      "request",
    );
  });

  // Errors fastify raises before any service scope (bad URL encoding, unknown methods, …):
  // the same JSON error shape, never fastify's own.
  app.setErrorHandler((err, req, reply) => {
    const ce = toCloudError(err) ?? new InternalError();
    if (ce.status >= 500) req.log.error({ err, reqId: req.id }, "unexpected error");
    reply.header("x-openstack-request-id", req.id);
    return reply
      .code(ce.status)
      .type("application/json")
      .send({ error: { code: ce.status, title: reasonPhrase(ce.status), message: ce.message } });
  });

  // Outside every service prefix: a plain JSON 404 that still carries the request id.
  app.setNotFoundHandler((req, reply) => {
    reply.header("x-openstack-request-id", req.id);
    return reply.code(404).send({ error: { code: 404, title: "Not Found", message: "The resource could not be found." } });
  });

  app.get("/", async (_req, reply) => {
    const base = opts.baseUrl();
    reply.header("x-openstack-request-id", _req.id);
    return {
      name: "stackbox",
      services: opts.services.map((s) => ({ name: s.name, type: s.type, url: `${base}${s.prefix}` })),
    };
  });

  for (const svc of opts.services) {
    await app.register(
      async (scope) => {
        const ridHeaders = ["x-openstack-request-id", ...(svc.requestIdHeaders ?? [])];
        const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
          let ce = toCloudError(err);
          if (!ce) {
            req.log.error({ err, reqId: req.id }, "unexpected error");
            ce = new InternalError();
          }
          const { body, headers, text } = svc.faults(ce, req.id);
          for (const h of ridHeaders) reply.header(h, req.id);
          if (svc.vary) reply.header("vary", svc.vary.join(", ")); // Keystone sends Vary on errors too
          for (const [k, v] of Object.entries({ ...ce.headers, ...headers })) reply.header(k, v);
          // Every 401 tells the client where to authenticate, as keystonemiddleware does.
          if (ce.status === 401 && !reply.hasHeader("www-authenticate")) {
            reply.header("WWW-Authenticate", `Keystone uri="${opts.baseUrl()}/identity"`);
          }
          if (text !== undefined) return reply.code(ce.status).send(text);
          return reply.code(ce.status).type("application/json").send(body);
        };
        scope.setErrorHandler((err, req, reply) => sendError(err, req, reply));
        // A second router over the same paths answers "is this URL known for another method?"
        // so a wrong method gets 405, as the real services answer, instead of 404.
        const known = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1000 });
        for (const r of svc.routes) {
          if (!known.hasRoute(r.method, svc.prefix + r.path)) known.on(r.method, svc.prefix + r.path, () => undefined);
        }
        scope.setNotFoundHandler((req, reply) => {
          const path = req.url.split("?")[0] ?? "";
          const other =
            svc.wrongMethod !== 404 &&
            (["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const).some((m) => m !== req.method && known.find(m, path) !== null);
          sendError(other ? new MethodNotAllowed() : new NotFound("The resource could not be found."), req, reply);
        });
        // Explicit HEAD routes first, so GET's implicit HEAD does not claim the path.
        const ordered = [...svc.routes].sort((a, b) => Number(b.method === "HEAD") - Number(a.method === "HEAD"));
        for (const route of ordered.filter((r) => !r.rawBody)) registerRoute(scope, svc, route, opts, ridHeaders);
        // Streamed uploads: a child scope whose only parser hands the request stream over.
        const raw = ordered.filter((r) => r.rawBody);
        if (raw.length > 0) {
          await scope.register(async (child) => {
            child.removeAllContentTypeParsers();
            child.addContentTypeParser("*", { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));
            for (const route of raw) registerRoute(child, svc, route, opts, ridHeaders);
          });
        }
      },
      { prefix: svc.prefix },
    );
    if (svc.rootRoutes?.length) {
      await app.register(async (scope) => {
        const ridHeaders = ["x-openstack-request-id", ...(svc.requestIdHeaders ?? [])];
        scope.setErrorHandler((err, req, reply) => {
          const ce = toCloudError(err) ?? new InternalError();
          if (ce.status >= 500) req.log.error({ err, reqId: req.id }, "unexpected error");
          const { body, headers, text } = svc.faults(ce, req.id);
          for (const h of ridHeaders) reply.header(h, req.id);
          for (const [k, v] of Object.entries({ ...ce.headers, ...headers })) reply.header(k, v);
          if (text !== undefined) return reply.code(ce.status).send(text);
          return reply.code(ce.status).type("application/json").send(body);
        });
        await scope.register(async (child) => {
          child.removeAllContentTypeParsers();
          child.addContentTypeParser("*", { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));
          const rootOrdered = [...(svc.rootRoutes ?? [])].sort((a, b) => Number(b.method === "HEAD") - Number(a.method === "HEAD"));
          for (const route of rootOrdered) registerRoute(child, svc, route, opts, ridHeaders);
        });
      });
    }
  }
  return app;
}

function registerRoute(
  scope: FastifyInstance,
  svc: ServiceDefinition,
  route: Route,
  opts: KernelOptions,
  ridHeaders: readonly string[],
): void {
  const policy = opts.policyFor(svc);
  // Compiled on first use: compiling every schema up front costs ~0.1 s of start-up.
  let bodyCheck: Validator | undefined;
  let queryCheck: Validator | undefined;
  scope.route({
    method: route.method,
    url: route.path,
    exposeHeadRoute: route.method === "GET",
    handler: async (req, reply) => {
      // NUL cannot be stored (PostgreSQL rejects it in text) and is never a valid id or name.
      if (/%00/i.test(req.url) || req.url.includes("\0")) throw new BadRequest(NUL_MESSAGE);
      // fastify never reads a GET/HEAD body; the real services (Keystone's json_body check and
      // sizelimit middleware) still reject a malformed or oversized one, before anything else.
      if ((req.method === "GET" || req.method === "HEAD") && !route.rawBody) await checkBodylessBody(req, opts.bodyLimit);
      const base = opts.baseUrl();
      const serviceUrl = `${base}${svc.prefix}`;
      const www = `Keystone uri="${base}/identity"`;
      const ctx = new RequestContext(
        req.id,
        req.method,
        req.url,
        req.params as Record<string, string>,
        req.query as Record<string, string | string[] | undefined>,
        req.body,
        req.headers,
        base,
        serviceUrl,
        policy,
        www,
      );
      ctx.remoteAddr = req.ip;
      let extra: Record<string, string> = {};
      if (svc.microversions) {
        ctx.version = negotiate(svc.microversions, req.headers);
        extra = versionHeaders(svc.microversions, ctx.version);
        // Errors from here on echo the negotiated version too, as Nova's and Placement's faults do.
        for (const [k, v] of Object.entries(extra)) reply.header(k, v);
      }
      const auth = route.auth ?? "token";
      if (auth !== "none") {
        const raw = req.headers["x-auth-token"];
        const token = Array.isArray(raw) ? raw[0] : raw;
        if (token && auth === "delayed") {
          ctx.auth = await opts.authenticator.authenticate(token).catch(() => undefined);
        } else if (token) {
          ctx.auth = await opts.authenticator.authenticate(token);
        } else if (auth === "token") {
          throw new Unauthorized401(www);
        }
      }
      // Authentication (keystonemiddleware) comes before routing by version.
      if (ctx.version && !ctx.version.within(route.minVersion, route.maxVersion)) {
        throw new NotFound("The resource could not be found.");
      }
      if (route.query) validateOrThrow((queryCheck ??= compileSchema(route.query)), req.query, "query");
      if (route.body && req.method !== "GET") {
        if (req.body === undefined) throw new BadRequest("The request you have made requires a body.");
        validateOrThrow((bodyCheck ??= compileSchema(route.body)), req.body, "body");
      }
      const out = await route.handler(ctx);
      for (const h of ridHeaders) reply.header(h, req.id);
      if (svc.vary) extra["vary"] = extra["vary"] ? `${extra["vary"]}, ${svc.vary.join(", ")}` : svc.vary.join(", ");
      for (const [k, v] of Object.entries({ ...extra, ...out.headers })) reply.header(k, v);
      reply.code(out.status ?? 200);
      if (out.text !== undefined) return reply.send(out.text);
      if (out.buffer !== undefined) return reply.send(out.buffer);
      if (out.stream !== undefined) return reply.send(out.stream);
      if (out.body === undefined) return reply.send();
      return reply.type("application/json").send(JSON.stringify(out.body));
    },
  });
}

/** Read a body sent with GET/HEAD: 413 over the limit, 400 when it is not JSON. */
async function checkBodylessBody(req: FastifyRequest, limit: number): Promise<void> {
  const len = Number(req.headers["content-length"] ?? 0);
  if (req.headers["transfer-encoding"] === undefined && !(len > 0)) return;
  if (len > limit) throw new PayloadTooLarge("Request is too large.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req.raw as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new PayloadTooLarge("Request is too large.");
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return;
  try {
    JSON.parse(text);
  } catch {
    throw new MalformedBody();
  }
}

class Unauthorized401 extends CloudError {
  constructor(www: string) {
    super(401, "The request you have made requires authentication.", { "WWW-Authenticate": www });
  }
}
