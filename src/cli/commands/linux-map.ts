/**
 * `tsbpf --backend linux map show|list [id N | pinned PATH]` and
 * `tsbpf --backend linux map dump id N | pinned PATH`: bpftool's output for maps
 * in the kernel (values in hex; BTF-formatted values are not printed).
 */
import { allIds } from "../../linux/bpf.js";
import { dumpMap, showAll, showMap } from "../../linux/inspect.js";
import { LinuxMap } from "../../linux/map.js";
import { type Command, UsageError, printJson } from "../command.js";
import { openSelected, parseSelector, requireLinux } from "./linux-common.js";

function mapShow(words: string[]): Command {
  return {
    words,
    usage: `${words.join(" ")} [id ID | pinned FILE] [-j]   (--backend linux)`,
    async run(args, options, io) {
      requireLinux(options, "map show");
      const sel = parseSelector(args, "map show");
      if (sel.rest.length) throw new UsageError(`map show: unexpected '${sel.rest[0]}'`);
      if (sel.id !== undefined || sel.pinned !== undefined) {
        using fd = openSelected("map", sel);
        const shown = showMap(fd.value);
        if (options.json) printJson(io, options, shown.json);
        else io.out(shown.plain);
        return 0;
      }
      const all = showAll("map", allIds("map"));
      if (options.json) printJson(io, options, all.map((s) => s.json));
      else for (const s of all) io.out(s.plain);
      return 0;
    },
  };
}

export const linuxMapShowCommand = mapShow(["map", "show"]);
export const linuxMapListCommand = mapShow(["map", "list"]);

export const linuxMapDumpCommand: Command = {
  words: ["map", "dump"],
  usage: "map dump id ID | pinned FILE [-j]   (--backend linux)",
  async run(args, options, io) {
    requireLinux(options, "map dump");
    const sel = parseSelector(args, "map dump");
    if (sel.id === undefined && sel.pinned === undefined) throw new UsageError("map dump needs 'id ID' or 'pinned FILE'");
    if (sel.rest.length) throw new UsageError(`map dump: unexpected '${sel.rest[0]}'`);
    using map = LinuxMap.fromFd(openSelected("map", sel));
    const out = dumpMap(map);
    if (options.json) printJson(io, options, out.json);
    else io.out(out.plain);
    return 0;
  },
};
