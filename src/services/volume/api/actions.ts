import { BadRequest, NotFound } from "../../../common/errors.js";
import type { Reply, RequestContext, Route } from "../../../http/context.js";

/**
 * `POST /{collection}/{id}/action` carries one key naming the action ({"os-extend": {…}}).
 * Several areas serve actions on one collection (volume actions from the volumes area, the
 * legacy attach actions from the attachments area), so each registers its actions here and
 * one route per collection dispatches on the key, as Cinder's wsgi does.
 */
export interface ActionSpec {
  /** Lowest microversion the action exists at (lower: 404, as Cinder's versioned methods). */
  minVersion?: string;
  maxVersion?: string;
  /** Success status when the handler's reply gives none (Cinder's actions mostly answer 202). */
  handler(ctx: RequestContext, value: unknown): Promise<Reply>;
}

export class ActionRegistry {
  private readonly actions = new Map<string, Map<string, ActionSpec>>();

  /** collection: "volumes", "snapshots", "backups", "groups", "group_snapshots", "os-volume-transfer", … */
  register(collection: string, name: string, spec: ActionSpec): void {
    let m = this.actions.get(collection);
    if (!m) this.actions.set(collection, (m = new Map()));
    if (m.has(name)) throw new Error(`action ${name} on ${collection} registered twice`);
    m.set(name, spec);
  }

  /** Whether an area registered `name` on `collection` (the extensions list advertises only what is served). */
  has(collection: string, name: string): boolean {
    return this.actions.get(collection)?.has(name) ?? false;
  }

  /** The dispatch route for one collection (its id parameter named `idParam`), relative to /v3. */
  route(collection: string, idParam: string, operation: string): Route {
    return {
      method: "POST",
      path: `/${collection}/:${idParam}/action`,
      operation,
      handler: async (ctx) => {
        const b = ctx.body;
        if (typeof b !== "object" || b === null || Array.isArray(b) || Object.keys(b).length === 0) {
          throw new BadRequest("Malformed request body");
        }
        const specs = this.actions.get(collection) ?? new Map<string, ActionSpec>();
        // Cinder looks the keys up in order and takes the first it knows.
        for (const [name, value] of Object.entries(b as Record<string, unknown>)) {
          const spec = specs.get(name);
          if (!spec) continue;
          const v = ctx.version!;
          if ((spec.minVersion && !v.atLeast(spec.minVersion)) || (spec.maxVersion && !v.atMost(spec.maxVersion))) {
            throw new NotFound("The resource could not be found.");
          }
          const reply = await spec.handler(ctx, value);
          return { status: 202, ...reply };
        }
        throw new BadRequest(`There is no such action: ${Object.keys(b)[0]}. Verify the request body and Content-Type header and try again.`);
      },
    };
  }
}
