/**
 * `tsbpf --backend linux prog show|list [id N | pinned PATH]` and
 * `tsbpf --backend linux prog dump xlated id N | pinned PATH`: bpftool's output
 * (plain text and -j JSON with bpftool's keys) for programs loaded in the kernel.
 */
import { allIds } from "../../linux/bpf.js";
import { dumpXlated, showAll, showProg } from "../../linux/inspect.js";
import { LinuxProgram } from "../../linux/program.js";
import { type Command, UsageError, printJson } from "../command.js";
import { openSelected, parseSelector, requireLinux } from "./linux-common.js";

function progShow(words: string[]): Command {
  return {
    words,
    usage: `${words.join(" ")} [id ID | pinned FILE] [-j]   (--backend linux)`,
    async run(args, options, io) {
      requireLinux(options, "prog show");
      const sel = parseSelector(args, "prog show");
      if (sel.rest.length) throw new UsageError(`prog show: unexpected '${sel.rest[0]}'`);
      if (sel.id !== undefined || sel.pinned !== undefined) {
        using fd = openSelected("prog", sel);
        const shown = showProg(fd.value);
        if (options.json) printJson(io, options, shown.json);
        else io.out(shown.plain);
        return 0;
      }
      const all = showAll("prog", allIds("prog"));
      if (options.json) printJson(io, options, all.map((s) => s.json));
      else for (const s of all) io.out(s.plain);
      return 0;
    },
  };
}

export const linuxProgShowCommand = progShow(["prog", "show"]);
export const linuxProgListCommand = progShow(["prog", "list"]);

export const linuxProgDumpXlatedCommand: Command = {
  words: ["prog", "dump", "xlated"],
  usage: "prog dump xlated id ID | pinned FILE [-j]   (--backend linux)",
  async run(args, options, io) {
    requireLinux(options, "prog dump xlated");
    const sel = parseSelector(args, "prog dump xlated");
    if (sel.id === undefined && sel.pinned === undefined) throw new UsageError("prog dump xlated needs 'id ID' or 'pinned FILE'");
    if (sel.rest.length) throw new UsageError(`prog dump xlated: unexpected '${sel.rest[0]}'`);
    using prog = LinuxProgram.fromFd(openSelected("prog", sel));
    const xlated = prog.xlatedInsns();
    if (xlated.length === 0) {
      // What the kernel does for an unprivileged dump (bpf_dump_raw_ok() false).
      io.err("tsbpf: no instructions returned (the kernel withheld them)\n");
      return 1;
    }
    const out = dumpXlated(xlated, prog.jitedKsyms());
    if (options.json) printJson(io, options, out.json);
    else io.out(out.plain);
    return 0;
  },
};
