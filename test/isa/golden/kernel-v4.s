# A socket filter using every instruction kind the 6.18 verifier accepts in one
# program without maps or BTF: its verifier log (log_level 2) prints each
# instruction with the kernel's own disasm.c. Assembled by tsbpf (pseudo-C).
  r6 = r1
  r0 = *(u8 *)skb[12]
  r0 = *(u16 *)skb[14]
  r0 = *(u32 *)skb[0]
  r7 = 3
  r0 = *(u16 *)skb[r7 + 5]
  r0 = *(u8 *)skb[r7 + -1]
  r0 = *(u32 *)skb[r7 + 0]
  r1 = -5
  w2 = 7
  r1 += r2
  w1 -= 9
  r1 *= r2
  w1 *= -3
  r1 /= 3
  r1 s/= 3
  w1 s/= w2
  w1 /= 5
  r1 %= r2
  r1 s%= -7
  w1 s%= 6
  w1 %= w2
  r1 |= 0x100
  w1 |= w2
  r1 &= r2
  w1 &= 0xff
  r1 <<= 3
  w1 <<= w2
  r1 >>= 1
  w1 >>= 2
  r1 s>>= 2
  w1 s>>= w2
  r1 ^= -1
  w1 ^= w2
  r1 = -r1
  w1 = -w1
  r3 = (s8)r1
  r3 = (s16)r1
  r3 = (s32)r1
  w3 = (s8)w1
  w3 = (s16)w1
  w4 = w3
  r3 = be16 r3
  r3 = le32 r3
  r3 = be64 r3
  r3 = le16 r3
  r3 = bswap16 r3
  r3 = bswap32 r3
  r3 = bswap64 r3
  *(u64 *)(r10 - 8) = r1
  *(u32 *)(r10 - 12) = 5
  *(u16 *)(r10 - 14) = w1
  *(u8 *)(r10 - 15) = -1
  *(u64 *)(r10 - 24) = -2
  *(u16 *)(r10 - 16) = 0x7fff
  r4 = *(s8 *)(r10 - 15)
  r4 = *(s16 *)(r10 - 14)
  r4 = *(s32 *)(r10 - 12)
  r4 = *(u64 *)(r10 - 8)
  w4 = *(u32 *)(r10 - 12)
  w4 = *(u16 *)(r10 - 14)
  w4 = *(u8 *)(r10 - 15)
  r5 = r10
  r5 += -8
  r0 = 1
  lock *(u64 *)(r10 - 8) += r0
  lock *(u64 *)(r10 - 8) |= r0
  lock *(u64 *)(r10 - 8) &= r0
  lock *(u64 *)(r10 - 8) ^= r0
  r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)
  r0 = atomic_fetch_or((u64 *)(r10 - 8), r0)
  r0 = atomic_fetch_and((u64 *)(r10 - 8), r0)
  r0 = atomic_fetch_xor((u64 *)(r10 - 8), r0)
  r0 = xchg_64(r10 - 8, r0)
  r0 = cmpxchg_64(r10 - 8, r0, r1)
  *(u32 *)(r10 - 32) = 0
  lock *(u32 *)(r10 - 32) += w1
  lock *(u32 *)(r10 - 32) |= w1
  lock *(u32 *)(r10 - 32) &= w1
  lock *(u32 *)(r10 - 32) ^= w1
  w1 = atomic_fetch_add((u32 *)(r10 - 32), w1)
  w1 = atomic_fetch_or((u32 *)(r10 - 32), w1)
  w1 = atomic_fetch_and((u32 *)(r10 - 32), w1)
  w1 = atomic_fetch_xor((u32 *)(r10 - 32), w1)
  w1 = xchg32_32(r10 - 32, w1)
  w0 = cmpxchg32_32(r10 - 32, w0, w1)
  r0 = load_acquire((u64 *)(r10 - 8))
  w0 = load_acquire((u32 *)(r10 - 32))
  w0 = load_acquire((u16 *)(r10 - 14))
  w0 = load_acquire((u8 *)(r10 - 15))
  store_release((u64 *)(r10 - 8), r0)
  store_release((u32 *)(r10 - 32), w0)
  store_release((u16 *)(r10 - 14), w0)
  store_release((u8 *)(r10 - 15), w0)
  r1 = 0x123456789 ll
  r1 = -1 ll
  r2 = 0 ll
  if r1 == r2 goto +1
  if r1 s> 5 goto +0
  if w1 != w2 goto +0
  if w1 < -1 goto +0
  if r1 & 0x40 goto +0
  if r1 > 7 goto +0
  if r1 >= r2 goto +0
  if r1 < r2 goto +0
  if r1 <= 9 goto +0
  if r1 s>= r2 goto +0
  if r1 s< -9 goto +0
  if r1 s<= r2 goto +0
  if w1 == 3 goto +0
  if w1 > w2 goto +0
  if w1 >= 4 goto +0
  if w1 <= w2 goto +0
  if w1 & w2 goto +0
  if w1 s> -2 goto +0
  if w1 s>= w2 goto +0
  if w1 s< 8 goto +0
  if w1 s<= w2 goto +0
  goto +0
  gotol +0
  r0 = 0
  r1 = 10
loop:
  may_goto +2
  r1 += -1
  if r1 != 0 goto loop
  call bpf_get_prandom_u32
  r1 = 4
  call sub
  exit
sub:
  r0 = r1
  r0 += 1
  exit
