/**
 * `tsbpf btf dump file FILE [format c|raw]`: bpftool's `btf dump file`, for an
 * ELF object (its .BTF) or a raw BTF blob (/sys/kernel/btf/vmlinux; a module's
 * /sys/kernel/btf/<mod> is read on top of vmlinux, as bpftool does). Text
 * output matches bpftool's; -j/-p JSON matches bpftool's writer and keys.
 * (`btf dump id N`, for BTF in the kernel, is the linux backend's: linux-btf.ts.)
 */
import { readFileSync } from "node:fs";
import { Btf } from "../../btf/btf.js";
import { formatBtfC } from "../../btf/dump-c.js";
import { formatBtfRaw, formatBtfRawJson } from "../../btf/dump-raw.js";
import { loadBtf } from "../../btf/load.js";
import { type Command, UsageError, parseKeywords } from "../command.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";

export const btfDumpCommand: Command = {
  words: ["btf", "dump"],
  usage: "btf dump file FILE [format c|raw] [-B BASE_FILE] [-j|-p]",
  async run(args, options, io) {
    const { kw, positional, flags } = parseKeywords(args, ["file", "format"], ["-B", "--base-btf"]);
    const file = kw.get("file");
    if (!file || positional.length) throw new UsageError("btf dump takes 'file FILE' and an optional 'format c|raw'");
    const format = kw.get("format") ?? "raw";
    if (format !== "c" && format !== "raw") throw new UsageError(`format takes c or raw, not '${format}'`);
    if (format === "c" && options.json) {
      // bpftool refuses the combination the same way, on stdout.
      io.out('{"error":"JSON output for C-syntax dump is not supported"}\n');
      return 1;
    }
    const basePath = (flags.get("-B") ?? flags.get("--base-btf")) as string | undefined;
    let base: Btf | undefined;
    if (basePath !== undefined) base = loadBtf(new Uint8Array(readFileSync(basePath))).btf;
    else if (file.startsWith("/sys/kernel/btf/") && file !== VMLINUX) {
      // Module BTF is split BTF on top of vmlinux; bpftool picks that base by itself.
      base = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
    }
    const bytes = readFileSync(file);
    const { btf } = loadBtf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { base });
    if (format === "c") io.out(formatBtfC(btf));
    else if (options.json) io.out(formatBtfRawJson(btf, { pretty: options.pretty }));
    else io.out(formatBtfRaw(btf));
    return 0;
  },
};
