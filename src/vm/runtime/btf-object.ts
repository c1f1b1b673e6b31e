/** A BTF object loaded into the vm kernel (BPF_BTF_LOAD): parsed, with its bytes for BTF_GET_INFO. */
import type { Btf } from "../../btf/btf.js";
import { KernelObject } from "./objects.js";

export class VmBtfObject extends KernelObject {
  readonly kind = "btf" as const;

  constructor(
    readonly btf: Btf,
    readonly bytes: Uint8Array,
    /** bpf_btf_info.name: empty for program BTF (the kernel names only vmlinux and modules). */
    readonly name = "",
  ) {
    super();
  }

  protected onRelease(): void {}
}
