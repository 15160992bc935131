#ifndef KERNEL_DEMO_H
#define KERNEL_DEMO_H

/* The run-mode tour of the contract; returns the number of steps that did
 * not do what the contract says. */
int demo_run(void);

#endif
