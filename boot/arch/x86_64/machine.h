/* Between machine.c and paging.c: the hand-over trampoline, which the
 * kernel's tables identity-map. */
#ifndef BOOT_X86_64_MACHINE_H
#define BOOT_X86_64_MACHINE_H

extern char handover_tramp[] __attribute__((visibility("hidden")));
extern char handover_tramp_end[] __attribute__((visibility("hidden")));

#endif
