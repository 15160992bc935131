/*
 * Recovery points live on the stack of the try_call that made them and are
 * chained innermost first, one chain per CPU (percpu.h: only the CPU itself
 * touches it).  The architecture's context.S saves and restores the
 * registers and the interrupt mask; this file keeps the chain and turns a trap into a return
 * value.
 */
#include "recover.h"
#include "panic.h"
#include "percpu.h"

struct recover_point {
	uint64_t regs[RECOVER_REGS];   /* context.S fills these: keep first */
	struct recover_point *prev;
	struct fault_info info;
};

int recover_save(struct recover_point *rp) __attribute__((returns_twice));
void recover_jump(struct recover_point *rp, int value) __attribute__((noreturn));

uint32_t try_call(void (*fn)(void *), void *arg, struct fault_info *info)
{
	struct recover_point rp = { .prev = this_cpu()->innermost };

	if (recover_save(&rp) == 0) {
		this_cpu()->innermost = &rp;
		fn(arg);
	}
	/* Second return: raise_exception already unlinked us. */
	this_cpu()->innermost = rp.prev;
	if (info)
		*info = rp.info;
	return rp.info.code;
}

void raise_exception(struct trapframe *tf, uint32_t code, uint64_t addr)
{
	struct recover_point *rp = this_cpu()->innermost;

	if (!rp)
		panic_trap(tf, code, addr);
	rp->info = (struct fault_info){
		.code = code, .vector = (uint32_t)trap_vector(tf), .error = trap_error(tf),
		.addr = addr, .rip = trap_pc(tf),
	};
	this_cpu()->innermost = rp->prev;
	recover_jump(rp, 1);
}

struct access {
	volatile uint8_t *p;
	uint8_t value;
};

static void do_read(void *arg)
{
	struct access *a = arg;
	a->value = *a->p;
}

static void do_write(void *arg)
{
	struct access *a = arg;
	*a->p = a->value;
}

static void do_exec(void *arg)
{
	((void (*)(void))arg)();
}

uint32_t try_read(const volatile void *p, uint8_t *out, struct fault_info *info)
{
	struct access a = { (volatile uint8_t *)p, 0 };
	uint32_t code = try_call(do_read, &a, info);

	if (!code && out)
		*out = a.value;
	return code;
}

uint32_t try_write(volatile void *p, uint8_t value, struct fault_info *info)
{
	struct access a = { (volatile uint8_t *)p, value };
	return try_call(do_write, &a, info);
}

uint32_t try_exec(const void *code, struct fault_info *info)
{
	return try_call(do_exec, (void *)code, info);
}
