/**
 * `tsbpf verify OBJ [program NAME] [-j] [-d]`: loads the object into a vm kernel
 * (maps created, CO-RE and relocations resolved as for a run) and reports each
 * program's verdict. `-j` prints one JSON object per program:
 * {"name","section","type","verdict","error","processed_insns","time_us"}; `-d`
 * (or `log 1|2`) prints the verifier log. Exit 1 if any program is rejected.
 */
import { LoadError, TsbpfError } from "../../errors.js";
import { objectSpecFromFile } from "../../object/node.js";
import type { ProgramSpec } from "../../object/types.js";
import { loadIntoKernel } from "../../vm/loader.js";
import { progTypeById } from "../../vm/progtypes/index.js";
import { VmKernel } from "../../vm/runtime/kernel.js";
import { vmVerifier } from "../../vm/runtime/verifier-adapter.js";
import type { VerifyOutcome } from "../../vm/runtime/verify.js";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";

/** name, section and bpftool's type name of a program. */
function identity(prog: ProgramSpec): { name: string; section: string; type: string } {
  return { name: prog.name, section: prog.sectionName, type: progTypeById(prog.type)?.name ?? `type ${prog.type}` };
}

export const verifyCommand: Command = {
  words: ["verify"],
  usage: "verify OBJ [program NAME] [log 0|1|2] [--unpriv] [--stats] [-j] [-d]",
  async run(args, options, io) {
    const { kw, positional, flags } = parseKeywords(args, ["program", "log"]);
    if (positional.length !== 1) throw new UsageError("verify takes one object file");
    for (const f of flags.keys()) if (f !== "--unpriv" && f !== "--stats") throw new UsageError(`unknown option '${f}'`);
    const level = Number(kw.get("log") ?? (options.debug ? 1 : 0));
    if (level !== 0 && level !== 1 && level !== 2) throw new UsageError(`log takes 0, 1 or 2, not '${kw.get("log")}'`);
    const spec = await objectSpecFromFile(positional[0]);
    const name = kw.get("program");
    const progs = name ? [spec.program(name)] : [...spec.programs.values()].filter((p) => p.autoload);

    // The kernel loads in warn mode so a rejected program still yields its
    // outcome; the wrapper keeps what the verifier said about each program.
    let last: { outcome: VerifyOutcome } | undefined;
    const inner = vmVerifier({ privileged: !flags.has("--unpriv"), logStats: flags.has("--stats") });
    const kernel = new VmKernel({
      verifierMode: "warn",
      verifier: (req) => {
        const outcome = inner(req);
        last = { outcome };
        return outcome;
      },
    });

    let rejected = 0;
    for (const prog of progs) {
      last = undefined;
      let error: string | undefined;
      try {
        const loaded = loadIntoKernel(kernel, spec, { programs: [prog.name], logLevel: level });
        for (const { fd } of loaded.programs.values()) kernel.close(fd);
        for (const { fd } of loaded.maps.values()) kernel.close(fd);
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        error = e instanceof LoadError && e.cause instanceof Error ? e.cause.message : e.message;
      }
      const outcome = (last as { outcome: VerifyOutcome } | undefined)?.outcome;
      const accepted = error === undefined && outcome !== undefined && outcome.accepted;
      if (!accepted) rejected++;
      const message = error ?? outcome?.error?.message ?? null;
      const processed = outcome?.stats?.processedInsns ?? 0;
      const timeUs = outcome?.stats?.timeUs ?? 0;
      if (options.json) {
        printJson(io, options, {
          ...identity(prog), verdict: accepted ? "accepted" : "rejected", error: accepted ? null : message,
          processed_insns: processed, time_us: timeUs, ...(level && outcome ? { log: outcome.log } : {}),
        });
        continue;
      }
      if (level && outcome) io.out(outcome.log);
      const s = outcome?.stats;
      io.out(accepted && s
        ? `${prog.name}: accepted, processed ${s.processedInsns} insns, ${s.totalStates} states, stack ${(outcome?.stackDepth ?? []).join("+")}, ${outcome?.xlated.length} xlated insns\n`
        : `${prog.name}: rejected: ${message}\n`);
    }
    return rejected ? 1 : 0;
  },
};
