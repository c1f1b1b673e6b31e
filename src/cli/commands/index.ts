/** Every CLI command, in the order `tsbpf help` lists them. */
import type { Command } from "../command.js";
import { asmCommand } from "./asm.js";
import { btfDumpCommand } from "./btf.js";
import { conformanceCommand } from "./conformance.js";
import { mapDumpFileCommand, progDumpJitedFileCommand, progDumpXlatedFileCommand } from "./object-dump.js";
import { runCommand } from "./run.js";
import { disasmCommand } from "./disasm.js";
import { pluginCommand } from "./plugin.js";
import { verifyCommand } from "./verify.js";
import { linuxBtfDumpIdCommand } from "./linux-btf.js";
import { linuxLinkListCommand, linuxLinkShowCommand } from "./linux-link.js";
import { linuxMapDumpCommand, linuxMapListCommand, linuxMapShowCommand } from "./linux-map.js";
import { linuxProgDumpXlatedCommand, linuxProgListCommand, linuxProgShowCommand } from "./linux-prog.js";

export const commands: readonly Command[] = [asmCommand, btfDumpCommand, conformanceCommand, disasmCommand, pluginCommand,
  runCommand, progDumpXlatedFileCommand, progDumpJitedFileCommand, mapDumpFileCommand, verifyCommand,
  // linux backend: kernel objects, bpftool's grammar and output.
  linuxProgShowCommand, linuxProgListCommand, linuxProgDumpXlatedCommand,
  linuxMapShowCommand, linuxMapListCommand, linuxMapDumpCommand,
  linuxLinkShowCommand, linuxLinkListCommand, linuxBtfDumpIdCommand];
