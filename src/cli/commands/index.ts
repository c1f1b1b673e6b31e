/** Every CLI command, in the order `tsbpf help` lists them. */
import type { Command } from "../command.js";
import { asmCommand } from "./asm.js";
import { conformanceCommand } from "./conformance.js";
import { disasmCommand } from "./disasm.js";
import { pluginCommand } from "./plugin.js";

export const commands: readonly Command[] = [asmCommand, conformanceCommand, disasmCommand, pluginCommand];
