/* Running the wrapper's command as a child, so that the wrapper outlives it
 * and can clean up after it, while looking to the caller as if it were the
 * command itself. */
#ifndef ATH_SUPERVISE_H
#define ATH_SUPERVISE_H

/* Runs argv (PATH searched) in a child that stays in our process group,
 * forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to us
 * to it, and waits for it.  Returns its wait status, or -1 (errno set) when
 * no child could be made.  A failed exec is the child's to report: it says
 * why on stderr as "athttp: CMD: reason" and exits 126 when CMD may not
 * be run (EACCES), else 127. */
int supervise_run(char *const argv[]);

/* Ends this process as status says the child ended: with its exit code, or
 * killed by its signal (without a core dump of our own). */
__attribute__((noreturn)) void supervise_exit_like(int status);

#endif
