/* The console's line editor: one line from the serial port, edited in place. */
#ifndef KERNEL_LINEEDIT_H
#define KERNEL_LINEEDIT_H

#include <stddef.h>

#define LINEEDIT_MAX 160

/*
 * Prints prompt, then reads and echoes one line into buf (len bytes, NUL
 * terminated): backspace, Ctrl-U, Ctrl-C, the arrow keys, Home/End and a
 * history (up/down).  Returns the line's length, or -1 at the end of input
 * (Ctrl-D on an empty line).  A non-empty line enters the history.
 */
int lineedit_read(const char *prompt, char *buf, size_t len);

#endif
