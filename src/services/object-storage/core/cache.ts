/**
 * Bytes of small objects by blob key. A blob key is never reused for other bytes (every write
 * makes a new one), so a cached entry can never be stale, even with several processes on one
 * database: it is only a copy of what the disk holds under that key. Least recently used
 * entries go first once the byte budget is spent.
 */
export class SmallObjectCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  get(key: string): Buffer | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: Buffer): void {
    if (this.budget <= 0 || value.length > this.budget) return;
    this.delete(key);
    this.map.set(key, value);
    this.bytes += value.length;
    while (this.bytes > this.budget) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.bytes -= v.length;
  }
}
