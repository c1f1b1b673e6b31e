/**
 * BPF_PROG_TYPE_CGROUP_SYSCTL. kernel/bpf/cgroup.c: sysctl_is_valid_access
 * (write and file_pos narrow reads; file_pos writable as a u32),
 * sysctl_func_proto (sysctl_get_name, get/set value, strtol/strtoul, common
 * cgroup helpers). Returns 0 or 1.
 */
import { accessRows } from "./access.js";
import { BPF_CGROUP_SYSCTL, BPF_PROG_TYPE_CGROUP_SYSCTL } from "./constants.js";
import { bpfSysctl } from "./ctx/bpf_sysctl.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { BASE_FUNCS, CGROUP_COMMON, helperSet } from "./funcs.js";

const rows = accessRows(bpfSysctl, { write: { read: "narrow" }, file_pos: { read: "narrow", write: "exact" } });
const helpers = helperSet(BASE_FUNCS, [25, 101, 102, 103, 104, 160, ...CGROUP_COMMON]);

export const cgroupSysctl = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_SYSCTL,
  name: "cgroup_sysctl",
  uapiName: "BPF_PROG_TYPE_CGROUP_SYSCTL",
  ctxStruct: "bpf_sysctl",
  ctxSize: bpfSysctl.size,
  ctxLayout: bpfSysctl,
  attachTypes: [BPF_CGROUP_SYSCTL],
  access: () => rows,
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
