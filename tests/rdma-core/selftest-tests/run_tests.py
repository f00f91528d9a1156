# guest-rdma-core checks that this file exists; it does not run it.
