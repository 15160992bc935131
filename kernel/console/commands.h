/*
 * The console's commands, one function each: argv[0] is the command's name.
 * Each returns 0, or CMD_USAGE (shell.h) when its arguments do not parse.
 */
#ifndef KERNEL_COMMANDS_H
#define KERNEL_COMMANDS_H

/* The address space: one IHostMemoryManager call each (commands.c). */
int cmd_reserve(int argc, char **argv);
int cmd_alloc(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_decommit(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* The address-space map, like VMMap: text, json or csv (map.c). */
int cmd_map(int argc, char **argv);

/* Touching memory, with the fault shown (shell_touch.c). */
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* The rest of the interface and the manager's extras (shell_host.c). */
int cmd_load(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_malloc(int argc, char **argv);
int cmd_free(int argc, char **argv);
int cmd_leaks(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_vas(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_quit(int argc, char **argv);

/* Prints the memory notifications that arrived during the last command. */
void notify_flush(void);

#endif
