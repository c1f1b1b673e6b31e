/**
 * The object's BTF on its way into the kernel (libbpf.c,
 * bpf_object__sanitize_and_load_btf): the open-time fix-ups are already in the
 * spec (DATASEC sizes and variable offsets, externs laid out, hidden functions
 * static); here the kinds the running kernel does not know are replaced
 * (src/btf/sanitize.ts, after probing the kernel as libbpf's
 * probe_kern_btf_* do), and func_info / line_info records are encoded for
 * BPF_PROG_LOAD. String offsets survive sanitizing and encoding, so line_info
 * records point at the same strings in the uploaded BTF.
 */
import { readFileSync } from "node:fs";
import { Btf } from "../../btf/btf.js";
import { BtfBuilder, encodeBtf } from "../../btf/encode.js";
import { BTF_FUNC_GLOBAL, BTF_FUNC_STATIC, BTF_VAR_STATIC } from "../../btf/kinds.js";
import { type BtfFeatures, sanitizeBtf } from "../../btf/sanitize.js";
import type { ProgramFuncInfo, ProgramLineInfo } from "../../object/types.js";
import { NotSupportedError } from "../../errors.js";
import { btfLoad } from "../bpf.js";
import { VMLINUX_BTF } from "../kernel-btf.js";
import { sys } from "../sys.js";

/** sizeof(struct bpf_func_info). include/uapi/linux/bpf.h. */
export const FUNC_INFO_REC_SIZE = 8;
/** sizeof(struct bpf_line_info). include/uapi/linux/bpf.h. */
export const LINE_INFO_REC_SIZE = 16;

/** Whether the kernel accepts this BTF blob (a probe: the fd is closed at once). */
function accepts(build: (b: BtfBuilder) => void): boolean {
  const b = new BtfBuilder();
  build(b);
  try {
    const { fd } = btfLoad(b.encode());
    sys().close(fd);
    return true;
  } catch {
    return false;
  }
}

let features: (BtfFeatures & { readonly btf: boolean }) | undefined;

/**
 * What the kernel's BTF loader understands, probed once per process with the
 * smallest BTF using each kind (libbpf.c / features.c, probe_kern_btf_*).
 */
export function kernelBtfFeatures(): BtfFeatures & { readonly btf: boolean } {
  if (features) return features;
  const btf = accepts((b) => {
    b.addInt("int", 4, 1);
  });
  if (!btf) {
    return (features = { btf: false, func: false, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false });
  }
  const funcWith = (linkage: number) => (b: BtfBuilder): void => {
    const int = b.addInt("int", 4, 1);
    const proto = b.addFuncProto(int, [{ name: "x", type: int }]);
    b.addFunc("f", proto, linkage);
  };
  return (features = {
    btf,
    func: accepts(funcWith(BTF_FUNC_STATIC)),
    funcGlobal: accepts(funcWith(BTF_FUNC_GLOBAL)),
    datasec: accepts((b) => {
      const int = b.addInt("int", 4, 1);
      const v = b.addVar("x", int, BTF_VAR_STATIC);
      b.addDatasec(".data", 4, [{ type: v, offset: 0, size: 4 }]);
    }),
    float: accepts((b) => {
      b.addFloat("float", 4);
    }),
    declTag: accepts((b) => {
      const int = b.addInt("int", 4, 1);
      const v = b.addVar("x", int, BTF_VAR_STATIC);
      b.addDeclTag("tag", v, -1);
    }),
    typeTag: accepts((b) => {
      const int = b.addInt("int", 4, 1);
      const tag = b.addTypeTag("tag", int);
      b.addPtr(tag);
    }),
    enum64: accepts((b) => {
      b.addEnum64("e", 8, [{ name: "v", value: 1n }]);
    }),
  });
}

/** The object's BTF with every kind the kernel lacks replaced, as bytes for BPF_BTF_LOAD. */
export function kernelBtfBytes(btf: Btf): { bytes: Uint8Array; sanitized: Btf } {
  const sanitized = sanitizeBtf(btf, kernelBtfFeatures());
  // Keep the string table as is: line_info records carry offsets into it.
  return { bytes: encodeBtf(sanitized, { keepStrings: true, byteOrder: "le" }), sanitized };
}

/** struct bpf_func_info records (insn_off in instructions, as BPF_PROG_LOAD takes them). */
export function encodeFuncInfo(records: readonly ProgramFuncInfo[]): Uint8Array {
  const out = new Uint8Array(records.length * FUNC_INFO_REC_SIZE);
  const v = new DataView(out.buffer);
  records.forEach((r, i) => {
    v.setUint32(i * FUNC_INFO_REC_SIZE, r.insnIndex, true);
    v.setUint32(i * FUNC_INFO_REC_SIZE + 4, r.typeId, true);
  });
  return out;
}

/** struct bpf_line_info records: line_col = line << 10 | column (include/uapi/linux/bpf.h, BPF_LINE_INFO_LINE_NUM). */
export function encodeLineInfo(records: readonly ProgramLineInfo[]): Uint8Array {
  const out = new Uint8Array(records.length * LINE_INFO_REC_SIZE);
  const v = new DataView(out.buffer);
  records.forEach((r, i) => {
    const o = i * LINE_INFO_REC_SIZE;
    v.setUint32(o, r.insnIndex, true);
    v.setUint32(o + 4, r.fileNameOff, true);
    v.setUint32(o + 8, r.lineOff, true);
    v.setUint32(o + 12, ((r.line << 10) | (r.column & 0x3ff)) >>> 0, true);
  });
  return out;
}

let vmlinux: Btf | undefined;

/**
 * The running kernel's BTF as a full type graph, for CO-RE (parsed once:
 * about half a second for vmlinux's ~125k types, so only when a program has
 * CO-RE relocations). NotSupportedError without CONFIG_DEBUG_INFO_BTF.
 */
export function vmlinuxTypes(): Btf {
  if (vmlinux) return vmlinux;
  let data: Buffer;
  try {
    data = readFileSync(VMLINUX_BTF);
  } catch {
    throw new NotSupportedError("CO-RE against kernel BTF", `no ${VMLINUX_BTF}: kernel built without CONFIG_DEBUG_INFO_BTF (5.4+)`);
  }
  return (vmlinux = Btf.parse(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
}
