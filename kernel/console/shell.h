/*
 * The serial console: a person (make run on a terminal) or a script (make run
 * SCRIPT=file) drives the contract by hand, one command per line.
 *
 * The first half of this header is what main.c calls; the rest is what the
 * commands (commands.c, shell_touch.c, shell_host.c) share: the words of an
 * argument (shell_args.c) and the way a result is shown.
 */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include <stdint.h>
#include <stddef.h>
#include "hostmem/hostmem.h"
#include "kernel/recover.h"

/* Greets, then reads and runs commands until `quit` or the end of input,
 * which exit QEMU with EXIT_PASS. */
void shell_run(void) __attribute__((noreturn));

/* ------------------------------------------------------------ for the commands */

/* A command returns 0, or CMD_USAGE when its arguments do not parse: the
 * shell then prints its usage line. */
#define CMD_USAGE (-1)

/*
 * Arguments.  Each returns 1 and sets *out, or 0 when s is not one.
 *   number:   decimal or 0x hex, K/M/G/T suffix, + and -, `$` (the last address
 *             a command returned), `null`: "64K", "$+8K", "0x7fff0000"
 *   protect:  names or numbers joined by + or |: "rw", "rx+guard",
 *             "PAGE_READONLY|PAGE_NOCACHE", "0x104"
 *   memflag:  ORs one MEM_* flag into *out: "topdown", "watch", "MEM_RESET", "0x20000000"
 *   level:    "task", "appdomain", "process" (EMemoryCriticalLevel)
 */
int arg_number(const char *s, uint64_t *out);
int arg_protect(const char *s, DWORD *out);
int arg_memflag(const char *s, DWORD *out);
int arg_level(const char *s, EMemoryCriticalLevel *out);
const char *level_name(EMemoryCriticalLevel level);  /* "eTaskCritical", ... */

/*
 * Why a word was refused.  Each arg_ function above records its reason when
 * it returns 0 and forgets it when it returns 1; a command refusing a word for
 * a reason of its own calls arg_refuse (which returns 0).  When the command
 * then returns CMD_USAGE, the shell prints "NAME: reason" before the usage.
 */
int arg_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *arg_why(void);                 /* "" when there is none */
void arg_forget(void);
int word_is(const char *s, const char *word);     /* equal, ignoring case */

/* What `$` stands for from now on. */
void shell_set_last(uint64_t addr);
/* The number of the line being run (DebugAlloc records it); the loop in
 * shell.c counts them. */
int shell_lineno(void);
void shell_next_line(void);

/* "NULL" or 0x and 16 hex digits, into buf. */
const char *addr_text(uint64_t addr, char buf[20]);
/* "0x10000 (64 KiB)", into buf. */
const char *size_text(uint64_t size, char buf[40]);
/* bytes in the unit that reads best: "64 KiB", "31.7 MiB", "111.9 TiB". */
const char *amount(uint64_t bytes, char buf[24]);
/* "MEM_COMMIT|MEM_RESERVE", "0" for none, into buf. */

/* Ends a call's line with " -> NAME (0xVALUE)". */
void show_hr(HRESULT hr);
/* Ends an access's line with " -> ok" or the exception, where and why. */
void show_fault(uint32_t code, const struct fault_info *fi);

/* The kernel's manager (borrowed). */
IHostMemoryManager *shell_mgr(void);

#endif
