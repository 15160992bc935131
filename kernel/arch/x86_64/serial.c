/*
 * COM1, a 16550 UART at I/O port 0x3F8: 115200 8N1, FIFOs on.  Output is
 * polled.  Input waits asleep in hlt: only IRQ4 (received data) is unmasked
 * at the PIC (idt.c), so a console waiting for a key costs the host no CPU.  QEMU's -serial stdio connects it to the terminal, and the
 * test runner reads the self-test report from it.
 */
#include "kernel/serial.h"
#include "portio.h"

#define COM1 0x3F8
enum { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void serial_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80);     /* DLAB: the next two bytes set the divisor */
	outb(COM1 + DATA, 0x01);    /* 115200 baud */
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x03);     /* 8N1 */
	outb(COM1 + FCR, 0xC7);     /* FIFOs on and cleared */
	outb(COM1 + MCR, 0x0B);     /* DTR, RTS, OUT2: lets the IRQ reach the PIC */
	outb(COM1 + IER, 0x01);     /* interrupt on received data */
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	while (!(inb(COM1 + LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + DATA, (uint8_t)c);
}

int serial_poll(void)
{
	if (!(inb(COM1 + LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + DATA);
}

int serial_getc(void)
{
	int c;

	/* sti's one-instruction shadow makes "sti; hlt" atomic: a byte that
	 * arrives after the poll still wakes the hlt. */
	while ((c = serial_poll()) < 0)
		__asm__ volatile("sti; hlt");
	return c;
}
