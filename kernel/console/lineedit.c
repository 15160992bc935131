/*
 * The console's line editor.
 *
 * QEMU's -serial stdio puts the terminal in raw mode: it neither echoes nor
 * edits, every key arrives as bytes.  So the kernel does what a tty's line
 * discipline would, plus a little of readline:
 *
 *   printable          inserted at the cursor, echoed
 *   BS, DEL            delete before the cursor     ESC [ 3 ~   delete under it
 *   Ctrl-U             erase the line               Ctrl-C      abandon it (*)
 *   left/right (ESC [ D / C), Home/End, Ctrl-A/E    move the cursor
 *   up/down (ESC [ A / B)                           walk the history
 *   CR or LF           the line is done (CR LF counts once)
 *   Ctrl-D             on an empty line: the end of input
 *
 * A script fed through the serial port arrives the same way, ending lines
 * with LF.  The screen is kept in step with plain characters, spaces and
 * backspaces only, so any terminal (or a log file) shows the right thing.
 *
 * (*) QEMU's -serial stdio leaves the terminal's signal keys on, so on a
 * terminal Ctrl-C ends QEMU itself (the escape hatch if the kernel wedges);
 * a ^C byte that does reach the port abandons the line.
 */
#include <stdbool.h>
#include "lineedit.h"
#include "kernel/print.h"
#include "kernel/serial.h"

#define HISTORY 16

static char history[HISTORY][LINEEDIT_MAX];
static int nhistory;                 /* lines ever entered; the last HISTORY kept */
static char unsent[LINEEDIT_MAX];     /* the new line, while the history is shown */
static int after_cr;                 /* the last byte was CR: an LF now is its pair */

struct line {
	char *buf;
	size_t len, cur, cap;
	int browse;                      /* history entry shown; nhistory: the new line */
	bool overflow;                   /* a key was dropped: the line is refused */
};

static void put_n(char c, size_t n)
{
	while (n--)
		serial_putc(c);
}

static void copy_line(char *dst, const char *src, size_t cap)
{
	size_t n = 0;

	while (src[n] && n + 1 < cap) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
}

/* After a change at the cursor: reprints from there to the end, blanks the
 * `stale` characters a longer line left on screen, and steps back. */
static void redraw_tail(struct line *l, size_t stale)
{
	for (size_t i = l->cur; i < l->len; i++)
		serial_putc(l->buf[i]);
	put_n(' ', stale);
	put_n('\b', l->len - l->cur + stale);
}

static void move_to(struct line *l, size_t pos)
{
	while (l->cur > pos) {
		serial_putc('\b');
		l->cur--;
	}
	while (l->cur < pos)
		serial_putc(l->buf[l->cur++]);
}

static void insert(struct line *l, char c)
{
	if (l->len + 1 >= l->cap) {
		if (!l->overflow)            /* one bell, not one per dropped key */
			serial_putc('\a');
		l->overflow = true;
		return;
	}
	for (size_t i = l->len; i > l->cur; i--)
		l->buf[i] = l->buf[i - 1];
	l->buf[l->cur++] = c;
	l->len++;
	serial_putc(c);
	redraw_tail(l, 0);
}

static void delete_at(struct line *l)
{
	if (l->cur == l->len)
		return;
	for (size_t i = l->cur; i + 1 < l->len; i++)
		l->buf[i] = l->buf[i + 1];
	l->len--;
	redraw_tail(l, 1);
}

static void backspace(struct line *l)
{
	if (l->cur == 0)
		return;
	move_to(l, l->cur - 1);
	delete_at(l);
}

/* The whole line becomes s (a history entry, or empty). */
static void replace(struct line *l, const char *s)
{
	size_t old = l->len;

	move_to(l, 0);
	copy_line(l->buf, s, l->cap);
	for (l->len = 0; l->buf[l->len]; l->len++)
		;
	redraw_tail(l, old > l->len ? old - l->len : 0);
	move_to(l, l->len);
}

/* Up (-1) or down (+1) the history; the new line is kept while away. */
static void history_step(struct line *l, int dir)
{
	int oldest = nhistory > HISTORY ? nhistory - HISTORY : 0;
	int to = l->browse + dir;

	if (to < oldest || to > nhistory)
		return;
	if (l->browse == nhistory) {
		l->buf[l->len] = '\0';
		copy_line(unsent, l->buf, sizeof(unsent));
	}
	l->browse = to;
	replace(l, to == nhistory ? unsent : history[to % HISTORY]);
}

static void remember(const char *s)
{
	if (!s[0])
		return;
	if (nhistory) {
		const char *last = history[(nhistory - 1) % HISTORY];
		size_t i = 0;

		while (s[i] && s[i] == last[i])
			i++;
		if (s[i] == last[i])
			return;             /* the same as the last one: keep one */
	}
	copy_line(history[nhistory % HISTORY], s, LINEEDIT_MAX);
	nhistory++;
}

/* ESC [ (or ESC O), optional numbers separated by ';', a final byte. */
static void escape(struct line *l)
{
	int c = serial_getc(), n = 0, first = -1;

	if (c != '[' && c != 'O')
		return;
	while ((c = serial_getc()) == ';' || (c >= '0' && c <= '9')) {
		if (c == ';' && first < 0)
			first = n;
		n = c == ';' ? 0 : n * 10 + (c - '0');
	}
	n = first >= 0 ? first : n;
	switch (c) {
	case 'A': history_step(l, -1); break;
	case 'B': history_step(l, +1); break;
	case 'C': move_to(l, l->cur < l->len ? l->cur + 1 : l->cur); break;
	case 'D': move_to(l, l->cur ? l->cur - 1 : 0); break;
	case 'H': move_to(l, 0); break;
	case 'F': move_to(l, l->len); break;
	case '~':
		if (n == 3)
			delete_at(l);
		else if (n == 1 || n == 7)
			move_to(l, 0);
		else if (n == 4 || n == 8)
			move_to(l, l->len);
		break;
	}
}

/* One byte that does not end the line; 0 at the end of input. */
static int key(struct line *l, int c, const char *prompt)
{
	switch (c) {
	case 0x7F: case '\b': backspace(l); break;
	case 0x01: move_to(l, 0); break;                 /* Ctrl-A */
	case 0x05: move_to(l, l->len); break;            /* Ctrl-E */
	case 0x15: replace(l, ""); break;                /* Ctrl-U */
	case 0x1B: escape(l); break;
	case 0x03:                                       /* Ctrl-C */
		move_to(l, l->len);
		kprintf("^C\n%s", prompt);
		l->len = l->cur = 0;
		l->browse = nhistory;
		break;
	case 0x04:                                       /* Ctrl-D */
		if (l->len == 0)
			return 0;
		delete_at(l);
		break;
	case '\t': insert(l, ' '); break;
	default:
		if (c >= 0x20 && c < 0x7F)
			insert(l, (char)c);
	}
	return 1;
}

int lineedit_read(const char *prompt, char *buf, size_t len)
{
	struct line l = { .buf = buf, .cap = len, .browse = nhistory };
	int c;

	kprintf("%s", prompt);
	for (;;) {
		c = serial_getc();
		if (c == '\n' && after_cr) {
			after_cr = 0;
			continue;
		}
		after_cr = c == '\r';
		if (c == '\r' || c == '\n')
			break;
		if (!key(&l, c, prompt)) {
			kprintf("\n");
			return -1;
		}
	}
	buf[l.len] = '\0';
	kprintf("\n");
	if (l.overflow) {                /* never cut and run */
		kprintf("line too long (max %zu)\n", len - 1);
		buf[0] = '\0';
		return 0;
	}
	remember(buf);
	return (int)l.len;
}
