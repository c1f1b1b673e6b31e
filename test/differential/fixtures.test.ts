/**
 * Every runnable fixture program, differentially: the same object bytes
 * loaded into the vm with its JIT, the vm with its interpreter and — where
 * bpf() works — the real kernel, run with the same input (data_in, ctx_in,
 * repeat), and compared on retval, data_out, data_size_out, ctx_out and the
 * complete contents of every map afterwards (both-backends.ts, dumpMaps).
 * A load both sides refuse is the same verdict; one side refusing is a
 * difference.
 *
 * The JIT/interpreter comparison runs everywhere; the kernel comparison is
 * gated by describeKernel and pins this process to CPU 0, so per-CPU map
 * slots, bpf_get_smp_processor_id and perf samples land where the vm's
 * (CPU 0) do.
 *
 * Cases come from the fixture directories, not from a list: every program of
 * every object under test/fixtures is a case; cases.ts holds inputs, setup,
 * normalisation and skip reasons.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { linuxBackend } from "../../src/linux/backend.js";
import { ObjectSpec } from "../../src/object/spec.js";
import type { ProgramSpec } from "../../src/object/types.js";
import { type NamedBackend, type Scenario, type Snapshot, snapshot, vmEngines } from "../helpers/both-backends.js";
import { describeKernel } from "../helpers/kernel.js";
import { pinToCpu } from "../vm/maps/kernel-maps.js";
import { CASES, type CaseSpec, type GlobalVar, Observed, PROG_TYPE, TEST_RUN_TYPES, defaultRuns, globalVars } from "./cases.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/**
 * Maps pinned by name (LIBBPF_PIN_BY_NAME) go here rather than to /sys/fs/bpf,
 * and are removed after each kernel load: a pin left over from another run
 * would be reused and carry its old contents. The vm's pins are its own.
 */
const PIN_DIR = `/sys/fs/bpf/tsbpf-differential-${process.pid}`;

function objects(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return objects(p);
    return f.endsWith(".o") ? [relative(FIXTURES, p)] : [];
  });
}

const TYPE_NAMES = new Map(Object.entries(PROG_TYPE).map(([name, id]) => [id, `BPF_PROG_TYPE_${name}`]));

/** Types whose loads a locked-down kernel refuses with EPERM (fentry/fexit/fmod_ret, LSM): skipped there, saying so. */
const LOCKED_DOWN: ReadonlySet<number> = new Set([PROG_TYPE.TRACING, PROG_TYPE.LSM]);

interface Case {
  readonly id: string;
  readonly type: number;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly scenario: Scenario;
  readonly spec: CaseSpec;
  readonly vars: ReadonlyMap<string, GlobalVar>;
  /** Why this program is not run at all. */
  readonly skip?: string;
}

/** The program under test and what its prog arrays' slots name (libbpf fills those it loads). */
function programsToLoad(spec: ObjectSpec, program: ProgramSpec): string[] {
  const names = new Set([program.name]);
  for (const m of spec.maps.values()) {
    if (m.type !== 3 /* BPF_MAP_TYPE_PROG_ARRAY */) continue;
    for (const slot of m.initialSlots) if (spec.programs.get(slot.target)?.autoload) names.add(slot.target);
  }
  return [...names];
}

function discover(): Case[] {
  const out: Case[] = [];
  for (const path of objects(FIXTURES)) {
    const bytes = readFileSync(join(FIXTURES, path));
    let spec: ObjectSpec;
    try {
      spec = ObjectSpec.fromBytes(bytes);
    } catch (e) {
      out.push({ id: path, type: 0, path, bytes, scenario: { program: "", runs: [] }, spec: {}, vars: new Map(), skip: `the object reader refuses it: ${(e as Error).message}` });
      continue;
    }
    const vars = globalVars(spec);
    for (const p of spec.programs.values()) {
      // "*" holds what applies to every program of the object; a program's own entry adds to it.
      const c: CaseSpec = { ...CASES[path]?.["*"], ...CASES[path]?.[p.name] };
      const id = `${path} ${p.name} (${p.sectionName})`;
      const scenario: Scenario = {
        program: p.name,
        load: { programs: programsToLoad(spec, p), pinPath: PIN_DIR },
        runs: c.runs ?? defaultRuns(p.type),
        ...(c.setup ? { setup: c.setup } : {}),
        ...(c.probe ? { probe: c.probe } : {}),
      };
      const noRun = TEST_RUN_TYPES.has(p.type)
        ? undefined
        : `${TYPE_NAMES.get(p.type as never) ?? `program type ${p.type}`} has no test run in the kernel (bpf_prog_test_run: ENOTSUPP)`;
      const skip = c.skip ?? noRun;
      out.push({ id, type: p.type, path, bytes, scenario, spec: c, vars, ...(skip ? { skip } : {}) });
    }
  }
  return out;
}

const cases = discover();

/** Snapshots by case and backend label, so each backend loads each case once per file. */
const taken = new Map<string, Snapshot>();

function take(c: Case, backend: NamedBackend): Snapshot {
  const key = `${backend.label}\0${c.id}`;
  let s = taken.get(key);
  if (!s) {
    try {
      s = snapshot(c.bytes, backend, c.scenario);
    } finally {
      if (backend.label === "linux") for (const f of readdirSync(PIN_DIR)) rmSync(join(PIN_DIR, f));
    }
    if (s.refused && mustLoad(c)) {
      throw new Error(`${backend.label} refused a fixture written to load: ${s.refused}`);
    }
    if (!s.refused && c.spec.refused) {
      throw new Error(`${backend.label} loaded a fixture written to be refused (${c.spec.refused})`);
    }
    if (!s.refused) {
      try {
        c.spec.normalize?.(s);
        c.spec.check?.(new Observed(s, c.vars));
      } catch (e) {
        throw new Error(`${backend.label}: ${(e as Error).message}`, { cause: e });
      }
    }
    taken.set(key, s);
  }
  return s;
}

/**
 * The fixtures written for this harness (and any case with checks) are meant
 * to load: a refusal there is a broken fixture, not a verdict to compare —
 * unless it is the known difference the case documents.
 */
const OWN_DIRS = ["maps/", "helpers/", "progtypes/"];
function mustLoad(c: Case): boolean {
  if (c.spec.knownDifference || c.spec.refused) return false;
  return c.spec.check !== undefined || OWN_DIRS.some((d) => c.path.startsWith(d));
}

/** What is compared: a refusal is a verdict (the messages differ by design); everything else as is. */
function comparable(s: Snapshot): unknown {
  return s.refused !== undefined ? { refused: true } : s;
}

const [jit, interp] = vmEngines();

describe("every runnable fixture program: vm JIT and vm interpreter agree", () => {
  for (const c of cases) {
    if (c.skip) {
      test.skip(`${c.id} [skipped: ${c.skip}]`, () => {});
      continue;
    }
    test(c.id, () => {
      const a = take(c, jit);
      const b = take(c, interp);
      expect(comparable(b), `interpreter vs JIT${a.refused ? ` (JIT refused: ${a.refused})` : ""}`).toEqual(comparable(a));
    });
  }
});

describeKernel("every runnable fixture program: the kernel and the vm agree", () => {
  const linux: NamedBackend = { label: "linux", make: () => linuxBackend() };
  beforeAll(() => {
    // The vm runs test runs on CPU 0; so must the kernel, for per-CPU state to line up.
    if (!pinToCpu(0)) throw new Error("cannot pin this process to CPU 0 (sched_setaffinity)");
    mkdirSync(PIN_DIR, { recursive: true });
  });
  afterAll(() => rmSync(PIN_DIR, { recursive: true, force: true }));
  for (const c of cases) {
    if (c.skip || c.spec.kernelSkip) {
      test.skip(`${c.id} [skipped: ${c.skip ?? c.spec.kernelSkip}]`, () => {});
      continue;
    }
    const known = c.spec.knownDifference;
    test(known ? `${c.id} [known difference: ${known}]` : c.id, (ctx) => {
      const k = take(c, linux);
      if (k.refused && LOCKED_DOWN.has(c.type) && /EPERM/.test(k.refused)) {
        ctx.skip(`the kernel refuses ${TYPE_NAMES.get(c.type as never)} programs here (EPERM: trampolines/LSM hooks locked down)`);
      }
      const v = take(c, jit);
      const why = `vm vs kernel${k.refused ? ` (kernel refused: ${k.refused})` : ""}${v.refused ? ` (vm refused: ${v.refused})` : ""}`;
      if (known) {
        // Found, reported, not fixed here (cases.ts says what and where): pinned down
        // as still different, so a fix turns this red until the entry goes.
        expect(comparable(v), `${why}: the known difference is gone — remove knownDifference from cases.ts`).not.toEqual(comparable(k));
        return;
      }
      expect(comparable(v), why).toEqual(comparable(k));
    });
  }
});
