(module
  (type (;0;) (func (param i32 i32 i32)))
  (type (;1;) (func (param i32 i64) (result i64)))
  (type (;2;) (func (param i32) (result i32)))
  (type (;3;) (func (param i32 i32 i32) (result i32)))
  (type (;4;) (func (param i32 i32)))
  (import "env" "memory" (memory 0))
  (import "jit" "fault" (func (;0;) (type 0)))
  (import "jit" "stack_lo" (global (;0;) i32))
  (import "jit" "stack_hi" (global (;1;) i32))
  (export "entry" (func $f2))
  (export "repeat" (func $f3))
  (export "cb" (func $f4))
  (func $f0 (;1;) (type 1) (param i32 i64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i32 i32 i32 i32 i32)
    local.get 0
    i32.const 512
    i32.sub
    local.set 15
    local.get 1
    i32.wrap_i64
    local.set 19
    ;; insn 0
    i64.const 0
    local.set 3
    ;; insn 1
    i64.const 0
    local.set 4
    ;; insn 2
    local.get 19
    i64.load32_u offset=4 align=4
    local.set 5
    ;; insn 3
    local.get 1
    i32.wrap_i64
    i64.load32_u align=4
    local.set 1
    ;; insn 4
    local.get 1
    i64.const 1
    i64.add
    local.set 1
    block
      loop
        ;; insn 5
        local.get 1
        local.get 5
        i64.gt_u
        br_if 1
        ;; insn 6
        local.get 4
        i32.wrap_i64
        i64.extend_i32_u
        local.set 6
        ;; insn 7
        local.get 6
        i32.wrap_i64
        i32.const -1
        i32.xor
        i64.extend_i32_u
        local.set 6
        ;; insn 8
        local.get 6
        i32.wrap_i64
        i32.const 8
        i32.and
        i64.extend_i32_u
        local.set 6
        ;; insn 9
        local.get 1
        i32.wrap_i64
        i32.const -1
        i32.add
        i64.load8_u align=1
        local.set 2
        ;; insn 10
        local.get 2
        i32.wrap_i64
        local.get 6
        i32.wrap_i64
        i32.shl
        i64.extend_i32_u
        local.set 2
        ;; insn 11
        local.get 2
        i32.wrap_i64
        local.get 3
        i32.wrap_i64
        i32.add
        i64.extend_i32_u
        local.set 2
        ;; insn 12
        local.get 1
        i64.const 1
        i64.add
        local.set 1
        ;; insn 13
        local.get 4
        i64.const 8
        i64.add
        local.set 4
        ;; insn 14
        local.get 2
        i32.wrap_i64
        i64.extend_i32_u
        local.set 3
        ;; insn 15
        local.get 4
        i64.const 12000
        i64.ne
        i32.eqz
        br_if 1
        ;; insn 5
        local.get 1
        local.get 5
        i64.gt_u
        br_if 1
        ;; insn 6
        local.get 4
        i32.wrap_i64
        i64.extend_i32_u
        local.set 6
        ;; insn 7
        local.get 6
        i32.wrap_i64
        i32.const -1
        i32.xor
        i64.extend_i32_u
        local.set 6
        ;; insn 8
        local.get 6
        i32.wrap_i64
        i32.const 8
        i32.and
        i64.extend_i32_u
        local.set 6
        ;; insn 9
        local.get 1
        i32.wrap_i64
        i32.const -1
        i32.add
        i64.load8_u align=1
        local.set 2
        ;; insn 10
        local.get 2
        i32.wrap_i64
        local.get 6
        i32.wrap_i64
        i32.shl
        i64.extend_i32_u
        local.set 2
        ;; insn 11
        local.get 2
        i32.wrap_i64
        local.get 3
        i32.wrap_i64
        i32.add
        i64.extend_i32_u
        local.set 2
        ;; insn 12
        local.get 1
        i64.const 1
        i64.add
        local.set 1
        ;; insn 13
        local.get 4
        i64.const 8
        i64.add
        local.set 4
        ;; insn 14
        local.get 2
        i32.wrap_i64
        i64.extend_i32_u
        local.set 3
        ;; insn 15
        local.get 4
        i64.const 12000
        i64.ne
        i32.eqz
        br_if 1
        ;; insn 5
        local.get 1
        local.get 5
        i64.gt_u
        br_if 1
        ;; insn 6
        local.get 4
        i32.wrap_i64
        i64.extend_i32_u
        local.set 6
        ;; insn 7
        local.get 6
        i32.wrap_i64
        i32.const -1
        i32.xor
        i64.extend_i32_u
        local.set 6
        ;; insn 8
        local.get 6
        i32.wrap_i64
        i32.const 8
        i32.and
        i64.extend_i32_u
        local.set 6
        ;; insn 9
        local.get 1
        i32.wrap_i64
        i32.const -1
        i32.add
        i64.load8_u align=1
        local.set 2
        ;; insn 10
        local.get 2
        i32.wrap_i64
        local.get 6
        i32.wrap_i64
        i32.shl
        i64.extend_i32_u
        local.set 2
        ;; insn 11
        local.get 2
        i32.wrap_i64
        local.get 3
        i32.wrap_i64
        i32.add
        i64.extend_i32_u
        local.set 2
        ;; insn 12
        local.get 1
        i64.const 1
        i64.add
        local.set 1
        ;; insn 13
        local.get 4
        i64.const 8
        i64.add
        local.set 4
        ;; insn 14
        local.get 2
        i32.wrap_i64
        i64.extend_i32_u
        local.set 3
        ;; insn 15
        local.get 4
        i64.const 12000
        i64.ne
        i32.eqz
        br_if 1
        ;; insn 5
        local.get 1
        local.get 5
        i64.gt_u
        br_if 1
        ;; insn 6
        local.get 4
        i32.wrap_i64
        i64.extend_i32_u
        local.set 6
        ;; insn 7
        local.get 6
        i32.wrap_i64
        i32.const -1
        i32.xor
        i64.extend_i32_u
        local.set 6
        ;; insn 8
        local.get 6
        i32.wrap_i64
        i32.const 8
        i32.and
        i64.extend_i32_u
        local.set 6
        ;; insn 9
        local.get 1
        i32.wrap_i64
        i32.const -1
        i32.add
        i64.load8_u align=1
        local.set 2
        ;; insn 10
        local.get 2
        i32.wrap_i64
        local.get 6
        i32.wrap_i64
        i32.shl
        i64.extend_i32_u
        local.set 2
        ;; insn 11
        local.get 2
        i32.wrap_i64
        local.get 3
        i32.wrap_i64
        i32.add
        i64.extend_i32_u
        local.set 2
        ;; insn 12
        local.get 1
        i64.const 1
        i64.add
        local.set 1
        ;; insn 13
        local.get 4
        i64.const 8
        i64.add
        local.set 4
        ;; insn 14
        local.get 2
        i32.wrap_i64
        i64.extend_i32_u
        local.set 3
        ;; insn 15
        local.get 4
        i64.const 12000
        i64.ne
        br_if 0
      end
      br 0
    end
    ;; insn 16
    local.get 3
    i32.wrap_i64
    i64.extend_i32_u
    local.set 1
    ;; insn 17
    local.get 1
    i32.wrap_i64
    i32.const 16
    i32.shr_u
    i64.extend_i32_u
    local.set 1
    ;; insn 18
    local.get 3
    i32.wrap_i64
    i32.const 65535
    i32.and
    i64.extend_i32_u
    local.set 3
    ;; insn 19
    local.get 3
    i32.wrap_i64
    local.get 1
    i32.wrap_i64
    i32.add
    i64.extend_i32_u
    local.set 3
    ;; insn 20
    local.get 3
    i32.wrap_i64
    i64.extend_i32_u
    local.set 2
    ;; insn 21
    local.get 2
    i32.wrap_i64
    i32.const 16
    i32.shr_u
    i64.extend_i32_u
    local.set 2
    ;; insn 22
    local.get 2
    i32.wrap_i64
    local.get 3
    i32.wrap_i64
    i32.add
    i64.extend_i32_u
    local.set 2
    ;; insn 23
    local.get 2
    i32.wrap_i64
    i32.const -1
    i32.xor
    i64.extend_i32_u
    local.set 2
    ;; insn 24
    local.get 2
    i32.wrap_i64
    i32.const 65535
    i32.and
    i64.extend_i32_u
    local.set 2
    ;; insn 25
    local.get 2
    return
    unreachable
  )
  (func $entry (;2;) (type 2) (param i32) (result i32)
    (local i64)
    local.get 0
    i32.const 0
    i64.load offset=520 align=8
    call $f0
    local.set 1
    i32.const 0
    local.get 1
    i64.store offset=512 align=8
    local.get 1
    i32.wrap_i64
  )
  (func $repeat (;3;) (type 3) (param i32 i32 i32) (result i32)
    (local i64)
    loop
      local.get 0
      local.get 1
      i64.extend_i32_u
      call $f0
      local.set 3
      local.get 2
      i32.const 1
      i32.sub
      local.tee 2
      br_if 0
    end
    i32.const 0
    local.get 3
    i64.store offset=512 align=8
    local.get 3
    i32.wrap_i64
  )
  (func $cb (;4;) (type 4) (param i32 i32)
    (local i64)
    block
      local.get 0
      br_table 0
    end
    unreachable
  )
)
