import { BadRequest, NotAcceptable } from "../common/errors.js";

/**
 * OpenStack API microversions as data. A service declares its canonical version list; the
 * kernel negotiates the request's version from `OpenStack-API-Version: <service> X.Y`
 * (or a legacy header such as `X-OpenStack-Nova-API-Version`), accepts `latest`, defaults
 * to the minimum, and answers 406 for anything outside the served range.
 */
export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(s: string): Microversion | undefined {
    const m = /^(\d+)\.(\d+)$/.exec(s.trim());
    if (!m) return undefined;
    return new Microversion(Number(m[1]), Number(m[2]));
  }

  static of(s: string): Microversion {
    const v = Microversion.parse(s);
    if (!v) throw new Error(`invalid microversion literal ${s}`);
    return v;
  }

  compare(o: Microversion): number {
    return this.major !== o.major ? this.major - o.major : this.minor - o.minor;
  }
  atLeast(s: string): boolean {
    return this.compare(Microversion.of(s)) >= 0;
  }
  atMost(s: string): boolean {
    return this.compare(Microversion.of(s)) <= 0;
  }
  within(min: string | undefined, max: string | undefined): boolean {
    return (min === undefined || this.atLeast(min)) && (max === undefined || this.atMost(max));
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export interface MicroversionSpec {
  /** The token clients use in OpenStack-API-Version ("compute", "placement", "volume"). */
  serviceType: string;
  /** Ordered canonical list; first is the minimum, last the maximum. */
  versions: readonly string[];
  /** Legacy header names also read, e.g. "x-openstack-nova-api-version". */
  legacyHeaders?: readonly string[];
}

/** Parse one header value "compute 2.1, placement 1.10" → the entry for our service type. */
function pick(header: string, serviceType: string): string | undefined {
  for (const part of header.split(",")) {
    const [type, ver, ...rest] = part.trim().split(/\s+/);
    if (rest.length === 0 && type?.toLowerCase() === serviceType.toLowerCase() && ver) return ver;
  }
  return undefined;
}

export function negotiate(
  spec: MicroversionSpec,
  headers: Record<string, string | string[] | undefined>,
): Microversion {
  const min = Microversion.of(spec.versions[0]!);
  const max = Microversion.of(spec.versions[spec.versions.length - 1]!);
  const raw = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(",") : v;
  };
  let requested = raw("openstack-api-version");
  let asked = requested === undefined ? undefined : pick(requested, spec.serviceType);
  if (asked === undefined) {
    for (const h of spec.legacyHeaders ?? []) {
      requested = raw(h);
      if (requested !== undefined) {
        asked = requested.trim();
        break;
      }
    }
  }
  if (asked === undefined) return min;
  if (asked.toLowerCase() === "latest") return max;
  const v = Microversion.parse(asked);
  // Nova, Cinder (InvalidAPIVersionString) and Placement (microversion_parse's TypeError) answer a
  // malformed version 400; a well-formed one outside the range is the 406 below.
  if (!v) throw new BadRequest(`API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (v.compare(min) < 0 || v.compare(max) > 0 || !spec.versions.includes(v.toString())) {
    throw new NotAcceptable(
      `Version ${asked} is not supported by the API. Minimum is ${min.toString()} and maximum is ${max.toString()}.`,
    );
  }
  return v;
}

/** The response headers that echo the negotiated version. */
export function versionHeaders(spec: MicroversionSpec, v: Microversion): Record<string, string> {
  const h: Record<string, string> = {
    "openstack-api-version": `${spec.serviceType} ${v.toString()}`,
    vary: ["OpenStack-API-Version", ...(spec.legacyHeaders ?? [])].join(", "),
  };
  for (const legacy of spec.legacyHeaders ?? []) h[legacy] = v.toString();
  return h;
}
