/** Every CLI command, in the order `tsbpf help` lists them. */
import type { Command } from "../command.js";
import { conformanceCommand } from "./conformance.js";

export const commands: readonly Command[] = [conformanceCommand];
