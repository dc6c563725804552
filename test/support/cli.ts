import { execFile } from "node:child_process";

/** What a client command (openstack CLI, python3 with openstacksdk) did. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a client command to its end (bounded by timeoutMs), never throwing: the caller asserts. */
export function run(cmd: string, args: string[], env: Record<string, string>, cwd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, cwd, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
