/**
 * A BTF object in the kernel behind an fd: loaded from raw .BTF bytes
 * (BPF_BTF_LOAD), or opened by id (vmlinux, modules, objects' BTF); its info and
 * its raw bytes back (what `bpftool btf dump id N` prints from).
 */
import { BtfInfo } from "./attr/info.js";
import { addr, allIds, btfLoad, cStringAt, fdById, objInfo, objInfoSimple } from "./bpf.js";
import { Fd } from "./fd.js";

export interface BtfInfoData {
  readonly id: number;
  readonly size: number;
  readonly name: string;
  readonly kernelBtf: boolean;
}

export function btfInfoByFd(fd: number): BtfInfoData {
  const name = Buffer.alloc(256);
  const info = BtfInfo.encode({ name: addr(name), name_len: name.length });
  objInfo(fd, BtfInfo, info, [name]);
  return {
    id: BtfInfo.num(info, "id"),
    size: BtfInfo.num(info, "btf_size"),
    name: cStringAt(name),
    kernelBtf: BtfInfo.num(info, "kernel_btf") !== 0,
  };
}

export class LinuxBtf implements Disposable {
  private constructor(
    readonly fd: Fd,
    readonly id: number,
    /** The loader's log (log level > 0 only). */
    readonly log: string,
  ) {}

  /** BPF_BTF_LOAD. Throws KernelBtfError (with the kernel's log) when refused. */
  static load(data: Uint8Array, opts: { logLevel?: number } = {}): LinuxBtf {
    const { fd, log } = btfLoad(data, opts.logLevel ?? 0);
    const owned = new Fd(fd, "BTF");
    try {
      return new LinuxBtf(owned, btfInfoByFd(fd).id, log);
    } catch (e) {
      owned.close();
      throw e;
    }
  }

  /** BPF_BTF_GET_FD_BY_ID. */
  static fromId(id: number): LinuxBtf {
    return new LinuxBtf(new Fd(fdById("btf", id), `BTF id ${id}`), id, "");
  }

  info(): BtfInfoData {
    return btfInfoByFd(this.fd.value);
  }

  /** The raw BTF as the kernel holds it (header, types, strings). */
  raw(): Buffer {
    const size = BtfInfo.num(objInfoSimple(this.fd.value, BtfInfo), "btf_size");
    const data = Buffer.alloc(size);
    const info = BtfInfo.encode({ btf: addr(data), btf_size: size });
    objInfo(this.fd.value, BtfInfo, info, [data]);
    return data;
  }

  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Ids of every BTF object in the system. */
export function btfIds(): number[] {
  return [...allIds("btf")];
}
