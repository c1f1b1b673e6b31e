/**
 * Our verifier against the kernel's recorded verdicts (recorded-verdicts.json,
 * written by scripts/record-verdicts.ts on a real kernel): runs anywhere, no
 * kernel needed. Every program of the corpus must have the kernel's verdict; the
 * error line and processed count too, where the record says they are comparable.
 * Programs of 100k+ processed instructions are checked at log level 0 (their
 * level-1 logs are tens of MB); the recorder checks both levels agree.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ourVerdict, recordedPrograms } from "./programs.js";

interface Entry {
  readonly type: string;
  readonly accepted: boolean;
  readonly error: string;
  readonly processed: number;
  readonly compareError: boolean;
  readonly compareProcessed: boolean;
}

const recorded = JSON.parse(readFileSync(new URL("./recorded-verdicts.json", import.meta.url), "utf8")) as {
  kernel: string;
  date: string;
  programs: Record<string, Entry>;
};
const programs = recordedPrograms();

describe(`verifier vs the kernel's recorded verdicts (Linux ${recorded.kernel}, ${recorded.date})`, () => {
  test("every corpus program has a recorded verdict and every record a program", () => {
    expect(Object.keys(recorded.programs).sort()).toEqual(programs.map((p) => p.name).sort());
  });

  test("the corpus spans the program types, accepted and rejected", () => {
    const entries = Object.values(recorded.programs);
    expect(entries.length).toBeGreaterThanOrEqual(150);
    for (const t of ["xdp", "socket_filter", "sched_cls", "tracepoint", "kprobe", "raw_tracepoint", "cgroup_skb"]) {
      expect(entries.some((e) => e.type === t && e.accepted), `${t} accepted`).toBe(true);
      expect(entries.some((e) => e.type === t && !e.accepted), `${t} rejected`).toBe(true);
    }
  });

  for (const p of programs) {
    const k = recorded.programs[p.name];
    if (!k) continue;
    test(p.name, () => {
      const o = ourVerdict(p, k.processed >= 100_000 ? 0 : 1);
      expect(o.accepted, o.accepted ? "we accept what the kernel rejects" : `we reject: ${o.error}`).toBe(k.accepted);
      if (k.compareError) expect(o.error).toBe(k.error);
      if (k.compareProcessed) expect(o.processed).toBe(k.processed);
    });
  }
});
