/*
 * The PL011 UART of QEMU's -M virt, at physical 0x09000000, reached
 * through its device-nGnRnE page in the direct map (boot/arch/aarch64/
 * paging.c).  Output and input poll its flag register; a console waiting
 * for a key sleeps 2 ms between looks (gic.c: WFI and the timer), so it
 * costs the host little (x86-64 sleeps in hlt until the UART's interrupt).
 */
#include <stdint.h>
#include "kernel/serial.h"
#include "kernel/boot.h"
#include "machine.h"
#include "gic.h"

#define PL011_BASE 0x09000000ull
enum { DR = 0x00, FR = 0x18, CR = 0x30 };
#define FR_RXFE 0x10    /* receive FIFO empty */
#define FR_TXFF 0x20    /* transmit FIFO full */
#define CR_UARTEN 0x001
#define CR_TXE    0x100
#define CR_RXE    0x200

static volatile uint32_t *reg(unsigned off)
{
	return (volatile uint32_t *)((uint8_t *)phys_to_virt(PL011_BASE) + off);
}

/* The firmware chose the line settings; the kernel only makes sure the
 * UART, its transmitter and its receiver are on. */
void serial_init(void)
{
	*reg(CR) |= CR_UARTEN | CR_TXE | CR_RXE;
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	while (*reg(FR) & FR_TXFF)
		arch_relax();
	*reg(DR) = (uint8_t)c;
}

int serial_poll(void)
{
	if (*reg(FR) & FR_RXFE)
		return -1;
	return (int)(*reg(DR) & 0xFF);
}

int serial_getc(void)
{
	int c;

	while ((c = serial_poll()) < 0)
		gic_sleep(2);
	return c;
}
