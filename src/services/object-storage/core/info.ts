/**
 * What /info advertises (Swift's register_swift_info): each filter registers its section
 * only when it is in the pipeline, so clients and Tempest see exactly what works.
 */
export class InfoRegistry {
  private readonly sections = new Map<string, Record<string, unknown>>();

  register(name: string, info: Record<string, unknown> = {}): void {
    this.sections.set(name, { ...(this.sections.get(name) ?? {}), ...info });
  }

  has(name: string): boolean {
    return this.sections.has(name);
  }

  document(): Record<string, unknown> {
    return Object.fromEntries(this.sections);
  }
}
