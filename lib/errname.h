/* SPDX-License-Identifier: GPL-2.0 */
/*
 * errname.h - the symbolic name of an errno ("EFAULT"), the way every tool of the project
 * prints one in a reason or a JSON "reg_error".
 */
#ifndef RDMAPIN_ERRNAME_H
#define RDMAPIN_ERRNAME_H

/*
 * rp_errname - "EFAULT" for EFAULT (or -EFAULT), "" for 0, "errno N" for a number without a
 * name. The string is static, or for unknown numbers thread-local (valid until the next call).
 */
const char *rp_errname(int err);

#endif /* RDMAPIN_ERRNAME_H */
