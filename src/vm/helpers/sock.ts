/**
 * Socket helpers (net/core/filter.c, net/core/bpf_sk_storage.c) over the one
 * socket the vm has: the one a test-run skb carries (runtime/skb.ts, SkbSock),
 * whose struct bpf_sock's address is the socket pointer programs hold. It is
 * freed with the run, and its sk storage with it.
 */
import { ProgramFault } from "../../errors.js";
import { LocalStorageMap } from "../maps/local_storage.js";
import { BPF_LOCAL_STORAGE_GET_F_CREATE, BPF_MAP_TYPE } from "../maps/uapi.js";
import { SkBuff, type SkbSock } from "../progtypes/runtime/skb.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef } from "./abi.js";
import { E, def, mapArg, memCheck, wrongMap } from "./util.js";

export const BPF_FUNC_sk_fullsock = 95;
export const BPF_FUNC_tcp_sock = 96;
export const BPF_FUNC_get_listener_sock = 98;
export const BPF_FUNC_sk_storage_get = 107;
export const BPF_FUNC_sk_storage_delete = 108;

/** include/net/tcp_states.h: the states of the sockets that are not full ones (timewait and request socks). */
const TCP_TIME_WAIT = 6;
const TCP_NEW_SYN_RECV = 12;
const TCP_LISTEN = 10;
/** include/uapi/linux/in.h IPPROTO_TCP; include/linux/net.h SOCK_STREAM. */
const IPPROTO_TCP = 6;
const SOCK_STREAM = 1;

/** sk_fullsock() (include/net/sock.h): neither a timewait nor a request socket. */
export function isFullSock(sk: SkbSock): boolean {
  return sk.state !== TCP_TIME_WAIT && sk.state !== TCP_NEW_SYN_RECV;
}

export function sockHelpers(services: VmServices): HelperDef[] {
  const map = mapArg(services);
  const check = memCheck(services);

  /**
   * The socket argument `n` points to, or undefined for NULL. A verified
   * program can only pass socket pointers it was given; anything else (from
   * an unverified one) is a fault.
   */
  const sockArg = (call: HelperCall, n: number, name: string): SkbSock | undefined => {
    if (call.hi(n) === 0 && call.u32(n) === 0) return undefined;
    const state = services.current().typeState;
    const sk = state instanceof SkBuff ? state.sock : undefined;
    if (sk && call.hi(n) === 0 && call.u32(n) === sk.addr) return sk;
    throw new ProgramFault(call.pc, `bpf_${name}: R${n} is not a socket of this run (0x${call.big(n).toString(16)})`);
  };

  const skStorage = (call: HelperCall, id: number): LocalStorageMap => {
    const m = map(call, 1);
    if (!(m instanceof LocalStorageMap) || m.type !== BPF_MAP_TYPE.SK_STORAGE) {
      throw wrongMap(call, m, id === BPF_FUNC_sk_storage_get ? "sk_storage_get" : "sk_storage_delete", id);
    }
    return m;
  };

  return [
    /** bpf_sk_fullsock(sk): sk itself when it is a full socket, else NULL. */
    def(BPF_FUNC_sk_fullsock, (call) => {
      const sk = sockArg(call, 1, "sk_fullsock");
      if (!sk) throw new ProgramFault(call.pc, "bpf_sk_fullsock: R1 is NULL");
      call.ret64(isFullSock(sk) ? sk.addr : 0, 0);
    }),
    /**
     * bpf_tcp_sock(sk): sk as a tcp_sock when it is a full TCP stream socket,
     * else NULL (sk_to_full_sk + the protocol and type test of bpf_tcp_sock).
     * The vm's sockets are the test run's (bpf_dummy_proto), which are not TCP.
     */
    def(BPF_FUNC_tcp_sock, (call) => {
      const sk = sockArg(call, 1, "tcp_sock");
      if (!sk) throw new ProgramFault(call.pc, "bpf_tcp_sock: R1 is NULL");
      const tcp = isFullSock(sk) && sk.protocol === IPPROTO_TCP && sk.type === SOCK_STREAM;
      call.ret64(tcp ? sk.addr : 0, 0);
    }),
    /** bpf_get_listener_sock(sk): sk when it is a listening full socket (TCP_LISTEN), else NULL. */
    def(BPF_FUNC_get_listener_sock, (call) => {
      const sk = sockArg(call, 1, "get_listener_sock");
      if (!sk) throw new ProgramFault(call.pc, "bpf_get_listener_sock: R1 is NULL");
      call.ret64(isFullSock(sk) && sk.state === TCP_LISTEN ? sk.addr : 0, 0);
    }),
    /**
     * bpf_sk_storage_get(map, sk, value, flags): the socket's value, created
     * (from value, or zeroed) with BPF_SK_STORAGE_GET_F_CREATE; NULL for no
     * socket, one that is not a full socket, or flags past F_CREATE.
     */
    def(BPF_FUNC_sk_storage_get, (call) => {
      const m = skStorage(call, BPF_FUNC_sk_storage_get);
      const sk = sockArg(call, 2, "sk_storage_get");
      const init = call.u32(3);
      if (init !== 0 || call.hi(3) !== 0) check(call.addr(3), m.valueSize, false, call.pc);
      const flags = call.hi(4) !== 0 ? 0xffffffff : call.u32(4);
      if (!sk || !isFullSock(sk) || flags > BPF_LOCAL_STORAGE_GET_F_CREATE) return call.ret64(0, 0);
      const value = m.storageGet(sk.addr, init, flags);
      if (value) sk.storage.add(m);
      call.ret64(value, 0);
    }),
    /** bpf_sk_storage_delete(map, sk): 0, -ENOENT, or -EINVAL for no (full) socket. */
    def(BPF_FUNC_sk_storage_delete, (call) => {
      const m = skStorage(call, BPF_FUNC_sk_storage_delete);
      const sk = sockArg(call, 2, "sk_storage_delete");
      if (!sk || !isFullSock(sk)) return call.ret(-E.EINVAL);
      call.ret(m.storageDelete(sk.addr));
    }),
  ];
}
