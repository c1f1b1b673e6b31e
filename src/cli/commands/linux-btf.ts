/**
 * `tsbpf btf dump id N [format raw|c] [-j]`: a BTF object in the kernel (vmlinux,
 * a module, a loaded program's BTF), printed by src/btf's dumpers as bpftool
 * prints it. Module BTF is split BTF on top of vmlinux, as bpftool reads it.
 * Kernel object ids only exist in the kernel, so this needs no --backend flag.
 */
import { readFileSync } from "node:fs";
import { Btf } from "../../btf/btf.js";
import { formatBtfC } from "../../btf/dump-c.js";
import { formatBtfRaw, formatBtfRawJson } from "../../btf/dump-raw.js";
import { loadBtf } from "../../btf/load.js";
import { LinuxBtf } from "../../linux/btf-object.js";
import { VMLINUX_BTF } from "../../linux/kernel-btf.js";
import { type Command, UsageError, parseKeywords } from "../command.js";

export const linuxBtfDumpIdCommand: Command = {
  words: ["btf", "dump", "id"],
  usage: "btf dump id ID [format c|raw] [-j|-p]",
  async run(args, options, io) {
    const { kw, positional } = parseKeywords(args, ["format"]);
    if (positional.length !== 1 || !/^\d+$/.test(positional[0])) throw new UsageError("btf dump id takes one numeric ID");
    const format = kw.get("format") ?? "raw";
    if (format !== "c" && format !== "raw") throw new UsageError(`format takes c or raw, not '${format}'`);
    if (format === "c" && options.json) {
      io.out('{"error":"JSON output for C-syntax dump is not supported"}\n');
      return 1;
    }
    using obj = LinuxBtf.fromId(Number(positional[0]));
    const info = obj.info();
    const raw = obj.raw();
    const base = info.kernelBtf && info.name !== "vmlinux" ? Btf.parse(new Uint8Array(readFileSync(VMLINUX_BTF))) : undefined;
    const { btf } = loadBtf(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), { base });
    if (format === "c") io.out(formatBtfC(btf));
    else if (options.json) io.out(formatBtfRawJson(btf, { pretty: options.pretty }));
    else io.out(formatBtfRaw(btf));
    return 0;
  },
};
