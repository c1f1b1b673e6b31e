#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

struct bits {
	unsigned int a: 3;
	unsigned int b: 5;
	int c: 7;
	unsigned long long d: 40;
	char e;
	unsigned short f: 2;
	long long g;
};

typedef unsigned int __u32;

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

enum big {
	BIG_A = 1ULL,
	BIG_B = 8589934591ULL,
};

struct opaque;

union opaque_u;

typedef int (*callback_t)(void *, int);

enum color {
	RED = 0,
	GREEN = 5,
	BLUE = -1,
};

enum tiny {
	TINY_A = 0,
	TINY_B = 200,
};

struct packed {
	char c;
	int i;
	short s;
} __attribute__((packed));

struct padded {
	char a;
	long b;
	char c;
	long: 64;
	int d;
	long: 64;
};

union number {
	int i;
	float f;
	double d;
	unsigned char bytes[8];
};

typedef unsigned long long u64_alias;

typedef u64_alias u64_alias2;

struct kitchen_sink {
	volatile const int cv;
	int * restrict rp;
	const char * const cp;
	struct opaque *op;
	union opaque_u *oup;
	callback_t cb;
	int (*handlers[4])(int, char);
	void (* (*complex)(int))(void);
	int matrix[3][4];
	union {
		int anon_i;
		struct {
			short lo;
			short hi;
		};
	};
	struct {
		int x;
		int y;
	} point;
	enum color color;
	enum tiny tiny;
	enum {
		INNER_A = 0,
		INNER_B = 1,
	} inner;
	struct bits bits;
	struct packed packed;
	struct padded padded;
	union number num;
	u64_alias2 alias;
	int __attribute__((btf_type_tag("user"))) *user_ptr;
	int __attribute__((btf_type_tag("rcu"))) *rcu_ptr;
	long double ld;
	_Bool flag;
	int tail[0];
};

typedef unsigned long long __u64;

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
