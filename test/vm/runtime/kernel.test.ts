import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { BpfCommandError, VerifierError } from "../../../src/errors.js";
import { ProgramBuilder, R0, R1, R2, R3 } from "../../../src/isa/builder.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { ObjectSpec } from "../../../src/object/spec.js";
import { vmBackend } from "../../../src/vm/backend.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP } from "../../../src/vm/progtypes/constants.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";

const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
const u64 = (v: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(v)]).buffer);
const errno = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof BpfCommandError) return e.code;
    throw e;
  }
  return undefined;
};

const hashAttrs = { mapType: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 2 };

/** r0 = 7; exit */
const returnSeven = (): Bytecode => new ProgramBuilder().mov(R0, 7).exit().build().code;

describe("vm kernel: the bpf() command surface", () => {
  test("map commands follow the kernel's errno rules", () => {
    const k = new VmKernel();
    const fd = k.mapCreate(hashAttrs);
    expect(errno(() => k.mapLookupElem(fd, u32(1)))).toBe("ENOENT");
    k.mapUpdateElem(fd, u32(1), u64(10), 1 /* BPF_NOEXIST */);
    expect(errno(() => k.mapUpdateElem(fd, u32(1), u64(11), 1))).toBe("EEXIST");
    expect(errno(() => k.mapUpdateElem(fd, u32(2), u64(11), 2 /* BPF_EXIST */))).toBe("ENOENT");
    k.mapUpdateElem(fd, u32(2), u64(20));
    expect(errno(() => k.mapUpdateElem(fd, u32(3), u64(30)))).toBe("E2BIG");
    expect(errno(() => k.mapUpdateElem(fd, u32(3), new Uint8Array(4)))).toBe("EINVAL");
    expect(k.mapLookupElem(fd, u32(2))).toEqual(u64(20));
    const first = k.mapGetNextKey(fd, null);
    const second = k.mapGetNextKey(fd, first);
    expect([first, second].map((b) => b[0]).sort()).toEqual([1, 2]);
    expect(errno(() => k.mapGetNextKey(fd, second))).toBe("ENOENT");
    k.mapFreeze(fd);
    expect(errno(() => k.mapUpdateElem(fd, u32(1), u64(1)))).toBe("EPERM");
    expect(errno(() => k.mapLookupElem(99, u32(1)))).toBe("EBADF");
  });

  test("ids are allocated from 1, listed by GET_NEXT_ID, and reopened by GET_FD_BY_ID", () => {
    const k = new VmKernel();
    const a = k.mapCreate(hashAttrs);
    const b = k.mapCreate(hashAttrs);
    const ida = k.objGetInfo(a).id;
    expect(ida).toBe(1);
    expect(k.getNextId("map", 0)).toBe(1);
    expect(k.getNextId("map", 1)).toBe(k.objGetInfo(b).id);
    expect(errno(() => k.getNextId("map", k.objGetInfo(b).id))).toBe("ENOENT");
    const again = k.getFdById("map", ida);
    k.mapUpdateElem(again, u32(5), u64(5));
    expect(k.mapLookupElem(a, u32(5))).toEqual(u64(5));
  });

  test("an object lives while anything holds it: fds, pins, and programs holding their maps", () => {
    const k = new VmKernel();
    const mapFd = k.mapCreate({ mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const id = k.objGetInfo(mapFd).id;
    k.objPin(mapFd, "/sys/fs/bpf/counter");
    expect(errno(() => k.objPin(mapFd, "/sys/fs/bpf/counter"))).toBe("EEXIST");
    k.close(mapFd);
    const pinned = k.objGet("/sys/fs/bpf/counter");
    expect(k.objGetInfo(pinned).id).toBe(id);
    k.close(pinned);
    k.objects.unpin("/sys/fs/bpf/counter");
    expect(errno(() => k.getFdById("map", id))).toBe("ENOENT");
    expect(errno(() => k.objGet("/sys/fs/bpf/counter"))).toBe("ENOENT");
  });

  test("PROG_LOAD verifies: a rejected program is EACCES with the verifier's error as cause", () => {
    const k = new VmKernel();
    // exit with r0 never written (root may read uninitialised stack, so that would pass).
    const bad = new ProgramBuilder().exit().build().code;
    let err: unknown;
    try {
      k.progLoad({ progType: BPF_PROG_TYPE_SOCKET_FILTER, insns: bad, license: "GPL", name: "bad" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfCommandError);
    expect((err as BpfCommandError).code).toBe("EACCES");
    expect((err as Error).cause).toBeInstanceOf(VerifierError);
    expect(((err as Error).cause as VerifierError).message).toMatch(/R0 !read_ok/);
    // warn mode loads anyway, to run checked.
    const { fd } = k.progLoad({ progType: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnSeven(), license: "GPL", verifierMode: "warn" });
    expect(k.objGetInfo(fd)).toMatchObject({ kind: "prog", type: BPF_PROG_TYPE_SOCKET_FILTER, typeName: "socket_filter" });
  });

  test("tail calls jump through a prog_array; an empty slot falls through", () => {
    const k = new VmKernel();
    const pa = k.mapCreate({ mapType: BPF_MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
    const target = k.progLoad({ progType: BPF_PROG_TYPE_XDP, insns: returnSeven(), license: "GPL", name: "target" });
    k.mapUpdateElem(pa, u32(2), u32(target.fd));
    // r6 = ctx; tail_call(ctx, pa, index); return 1 (only when the slot is empty)
    const caller = (index: number): Bytecode =>
      new ProgramBuilder()
        .ldMapFd(R2, "pa").mov(R3, index).call("tail_call").mov(R0, 1).exit()
        .build().code;
    const load = (index: number): number => {
      const code = caller(index);
      code.imm[0] = pa; // the builder's map reference, resolved to the fd by hand
      return k.progLoad({ progType: BPF_PROG_TYPE_XDP, insns: code, license: "GPL" }).fd;
    };
    const packet = new Uint8Array(64);
    expect(k.progTestRun(load(2), { data: packet }).retval).toBe(7);
    expect(k.progTestRun(load(3), { data: packet }).retval).toBe(1);
    void R1;
  });

  test("BTF_LOAD takes raw BTF and rejects anything else with EINVAL", () => {
    const k = new VmKernel();
    const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(new URL("../../fixtures/bench/03_xdp_parse_udp.bpf.o", import.meta.url))));
    expect(errno(() => k.btfLoad(new Uint8Array([1, 2, 3])))).toBe("EINVAL");
    const be = vmBackend({ kernel: k });
    using coll = be.load(spec);
    const info = k.objGetInfo(coll.program("bench_xdp_parse_udp").fd);
    expect(info.kind === "prog" && info.btfId).toBeGreaterThan(0);
    expect(info).toMatchObject({ xlatedProgLen: 61 * 8, jited: true, verifiedInsns: 77 });
  });
});
