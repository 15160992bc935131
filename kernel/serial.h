/* The serial console: COM1 on x86-64, the PL011 on AArch64 (each
 * kernel/arch/<arch>/serial.c).  QEMU's -serial stdio connects it to the
 * terminal, and the test runner reads the self-test report from it. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

void serial_init(void);
void serial_putc(char c);
int  serial_getc(void);      /* blocks; returns the byte */
int  serial_poll(void);      /* -1 when nothing is waiting */

#endif
