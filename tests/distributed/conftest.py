"""Under ``mpiexec`` (``GRADUS_MPI_TESTS=1``): a test that fails on one rank aborts every rank.

Without this, the other rank would wait forever in its next collective. The failing rank prints its
report (with its rank) before ``MPI.COMM_WORLD.Abort``; the launching test sees a non-zero exit
and the report, within seconds.
"""
from __future__ import annotations

import os
import sys


def pytest_runtest_logreport(report):
    if os.environ.get("GRADUS_MPI_TESTS") != "1" or not report.failed:
        return
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if comm.Get_size() < 2:
        return
    sys.stderr.write(f"\n[rank {comm.Get_rank()}] FAILED {report.nodeid} ({report.when}):\n"
                     f"{report.longreprtext}\n[rank {comm.Get_rank()}] aborting every rank\n")
    sys.stderr.flush()
    comm.Abort(1)
