/** BPF_PROG_TYPE_SCHED_ACT: the same verifier ops as sched_cls (net/core/filter.c, tc_cls_act_verifier_ops). */
export { schedAct } from "./sched_cls.js";
