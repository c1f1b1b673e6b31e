/** `tsbpf --backend linux link show|list [id N | pinned PATH]`: bpftool's output for bpf_links. */
import { allIds } from "../../linux/bpf.js";
import { showAll, showLink } from "../../linux/inspect.js";
import { type Command, UsageError, printJson } from "../command.js";
import { openSelected, parseSelector, requireLinux } from "./linux-common.js";

function linkShow(words: string[]): Command {
  return {
    words,
    usage: `${words.join(" ")} [id ID | pinned FILE] [-j]   (--backend linux)`,
    async run(args, options, io) {
      requireLinux(options, "link show");
      const sel = parseSelector(args, "link show");
      if (sel.rest.length) throw new UsageError(`link show: unexpected '${sel.rest[0]}'`);
      if (sel.id !== undefined || sel.pinned !== undefined) {
        using fd = openSelected("link", sel);
        const shown = showLink(fd.value);
        if (options.json) printJson(io, options, shown.json);
        else io.out(shown.plain);
        return 0;
      }
      const all = showAll("link", allIds("link"));
      if (options.json) printJson(io, options, all.map((s) => s.json));
      else for (const s of all) io.out(s.plain);
      return 0;
    },
  };
}

export const linuxLinkShowCommand = linkShow(["link", "show"]);
export const linuxLinkListCommand = linkShow(["link", "list"]);
