// SPDX-License-Identifier: GPL-2.0
/*
 * test_worker.c - host test of the sweep's worker supervision (worker.c): records arrive,
 * a hung worker times out on time although signals keep interrupting the wait, a worker that
 * closes its pipe but does not exit is killed and reaped within a bound. A watchdog fails the
 * test instead of hanging it. KTAP; exit 0 when every check holds, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

static int nchecks, nfail;
static const char *volatile current = "setup";

static void check(int cond, const char *what)
{
	nchecks++;
	nfail += !cond;
	printf("%sok %d %s\n", cond ? "" : "not ", nchecks, what);
	fflush(stdout);
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts the parent's waits */
}

static void on_watchdog(int sig)
{
	char buf[160];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf), "not ok %d %s # hung: the watchdog fired after 20 s\n",
		     nchecks + 1, current);
	if (write(1, buf, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct rec {
	int idx;
	char pad[60];
};

static void three_records(int wfd, void *arg)
{
	struct rec r;
	int i;

	(void)arg;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r.idx = i;
		if (write(wfd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(3);
		usleep(100 * 1000); /* the parent's waits see signals meanwhile */
	}
}

static void hang(int wfd, void *arg)
{
	(void)wfd;
	(void)arg;
	for (;;)
		pause();
}

static void close_and_hang(int wfd, void *arg)
{
	(void)arg;
	close(wfd);
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: waits see EINTR */
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } };
	struct sw_worker w;
	struct rec r;
	int i, ret, st = 0, got;
	long t0;

	printf("KTAP version 1\n1..8\n");
	signal(SIGUSR1, on_watchdog);
	{
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
		struct itimerspec its = { .it_value = { 20, 0 } };
		timer_t t;

		if (timer_create(CLOCK_MONOTONIC, &sev, &t) || timer_settime(t, 0, &its, NULL)) {
			perror("timer_create");
			return 1;
		}
	}
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL); /* SIGALRM every 20 ms from here on */

	current = "records_arrive_through_signals";
	ret = sw_worker_start(&w, three_records, NULL);
	for (i = 0, got = 0; !ret && i < 3; i++)
		got += sw_worker_read(&w, &r, sizeof(r), 5000) == 1 && r.idx == i;
	check(!ret && got == 3, current);
	current = "end_of_file_after_the_records";
	check(!ret && sw_worker_read(&w, &r, sizeof(r), 5000) == 0, current);
	current = "exited_worker_reaped";
	check(!sw_worker_stop(&w, 1000, &st) && WIFEXITED(st) && !WEXITSTATUS(st), current);

	current = "hung_worker_times_out_on_time_under_signals";
	t0 = now_ms();
	ret = sw_worker_start(&w, hang, NULL);
	ret = ret ?: sw_worker_read(&w, &r, sizeof(r), 500);
	check(ret == -ETIMEDOUT && now_ms() - t0 < 2000, current);
	current = "hung_worker_killed_and_reaped";
	st = 0;
	check(!sw_worker_stop(&w, 0, &st) && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, current);

	/* no signals from here: a blocking waitpid() would wait forever */
	memset(&every, 0, sizeof(every));
	setitimer(ITIMER_REAL, &every, NULL);
	current = "closed_pipe_is_end_of_file";
	ret = sw_worker_start(&w, close_and_hang, NULL);
	check(!ret && sw_worker_read(&w, &r, sizeof(r), 5000) == 0, current);
	current = "worker_that_does_not_exit_is_killed_after_the_grace";
	t0 = now_ms();
	st = 0;
	ret = sw_worker_stop(&w, 300, &st);
	check(!ret && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, current);
	current = "within_the_bound";
	check(now_ms() - t0 < 300 + SW_REAP_MS, current);

	printf("%d passed, %d failed\n", nchecks - nfail, nfail);
	return nfail ? 1 : 0;
}
