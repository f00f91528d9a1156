// SPDX-License-Identifier: GPL-2.0
/*
 * fail_dereg.c - an LD_PRELOAD shim for the guest test dereg_fault.py: every ibv_dereg_mr()
 * fails with EBUSY and leaves the MR registered, as libibverbs does when the kernel refuses
 * to release it. rdmapin must report it (the case fails, "dereg_error":"EBUSY"), not drop it.
 */
#include <errno.h>
#include <infiniband/verbs.h>

int ibv_dereg_mr(struct ibv_mr *mr)
{
	(void)mr;
	return EBUSY;
}
