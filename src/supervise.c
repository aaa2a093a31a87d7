#include "supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid;

static void forward(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	/* The kernel sends the terminal's ^C, ^\ and hangup to the whole
	 * foreground process group, the child included: sending it again
	 * would deliver it twice. */
	if (si->si_code == SI_KERNEL)
		return;
	int saved = errno;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

int supervise_run(char *const argv[])
{
	sigset_t these, caller_mask;
	sigemptyset(&these);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&these, forwarded[i]);
	/* Blocked from before the fork until child_pid is known: a signal in
	 * between waits instead of being lost. */
	sigprocmask(SIG_BLOCK, &these, &caller_mask);

	struct sigaction fw = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	fw.sa_mask = these;
	bool ours[N_FORWARDED] = { false };
	for (size_t i = 0; i < N_FORWARDED; i++) {
		struct sigaction now;
		/* What the caller ignores (nohup, a shell's background job)
		 * stays ignored, in the child too. */
		if (sigaction(forwarded[i], NULL, &now) == 0 && now.sa_handler == SIG_IGN)
			continue;
		ours[i] = sigaction(forwarded[i], &fw, NULL) == 0;
	}

	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < N_FORWARDED; i++)
			if (ours[i])
				signal(forwarded[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &caller_mask, NULL);
		execvp(argv[0], argv);
		int e = errno;
		fprintf(stderr, "athttp: %s: %s\n", argv[0], strerror(e));
		_exit(e == EACCES ? 126 : 127);
	}
	int fork_errno = errno;
	if (pid > 0)
		child_pid = pid;
	sigprocmask(SIG_SETMASK, &caller_mask, NULL);
	if (pid < 0) {
		errno = fork_errno;
		return -1;
	}

	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			/* Cannot happen for our own child; do not report success. */
			status = 1 << 8;
			break;
		}
	child_pid = 0;
	return status;
}

void supervise_exit_like(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGABRT;
	/* The child already dumped what there was to dump. */
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	fflush(NULL);
	signal(sig, SIG_DFL);
	sigset_t only;
	sigemptyset(&only);
	sigaddset(&only, sig);
	sigprocmask(SIG_UNBLOCK, &only, NULL);
	raise(sig);
	_exit(128 + sig);
}
