#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""lmhead run under real mpirun against the one-process run, and its faults.

Cases (one per ctest entry, label mpi):
  R x C - N   e.g. 2x4-8: a synthetic head (H=256, V=4096) converted for an RxC
              mesh; decode and prefill (S=1025, across the 1024-row chunk) from
              input rows 0 and R-1, logits, argmax, top-k and logsumexp, both
              scatter routes: every output file of `mpirun -n N lmhead run` is
              byte for byte the file of the plain `lmhead run`. The bytes each
              rank reports moving are checked against counts derived here from
              the mesh geometry alone.
  faults      a missing or truncated shard on one rank, ranks that see
              different manifests, a rank count that does not divide the mesh:
              every rank exits within --timeout, non-zero, naming the cause.
  hang        a rank that hangs or dies (mpi_fault_probe): the others stop
              within the timeout naming it.
"""
import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HIDDEN = 256
VOCAB = 4096
CANDIDATE_BYTES = 16  # engine/combine.h Candidate: value, padding, int64 token id.


class Runner:
    def __init__(self, args):
        self.lmhead = args.lmhead
        self.probe = args.probe
        self.mpirun = args.mpirun
        self.work = args.work

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def run(self, cmd, timeout=120, expect_ok=True):
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        elapsed = time.monotonic() - start
        if expect_ok and proc.returncode != 0:
            sys.exit(f"FAILED ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
        return proc, elapsed

    def mpi(self, n, args, tag_output=False, extra=()):
        cmd = [self.mpirun, "--allow-run-as-root", "--oversubscribe", "-n", str(n)]
        if tag_output:
            cmd.append("--tag-output")
        return cmd + list(extra) + [self.lmhead] + args

    def make_weights(self, name, mesh, seed=7):
        ckpt, weights = self.path(name + "_ckpt"), self.path(name)
        self.run([self.lmhead, "synth", "--hidden-size", str(HIDDEN), "--vocab-size", str(VOCAB),
                  "--seed", str(seed), "--out", ckpt])
        self.run([self.lmhead, "convert", "--checkpoint", ckpt, "--mesh", mesh, "--out", weights,
                  "--quiet"])
        return weights


def make_inputs(runner):
    rng = np.random.default_rng(2024)
    inputs = {}
    for rows in (1, 7, 1025):
        path = runner.path(f"x{rows}.npy")
        np.save(path, rng.standard_normal((rows, HIDDEN)).astype(np.float32))
        inputs[rows] = path
    return inputs


def owner(device, num_devices, n):
    return device // (num_devices // n)


def scatter_messages(rows, cols, n, from_row, route):
    """Messages mesh_scatter sends between ranks, from the geometry alone."""
    total = 0
    for col in range(cols):
        for row in range(rows):
            if row == from_row:
                continue
            step = 1 if row > from_row else -1
            path = range(from_row, row + step, step) if route == "forward" else (from_row, row)
            owners = [owner(r * cols + col, rows * cols, n) for r in path]
            total += sum(1 for a, b in zip(owners, owners[1:]) if a != b)
    return total


def equivalence(runner, case):
    mesh, n = case.split("-")
    rows, cols = (int(v) for v in mesh.split("x"))
    n = int(n)
    devices = rows * cols
    weights = runner.make_weights("weights", mesh)
    x = make_inputs(runner)
    last = str(rows - 1)
    # (name, input rows, flags): decode and prefill, both input rows, every
    # reduction, both routes.
    calls = [
        ("decode_logits", 7, ["--mode", "decode", "--input-row-idx", "0", "--json",
                              "--per-device-output", "{out}_devices"]),
        ("decode_topk", 7, ["--mode", "decode", "--input-row-idx", last, "--reduce", "topk:5",
                            "--output-values", "{out}_values.npy", "--scatter-route", "direct",
                            "--json"]),
        ("decode_argmax", 1, ["--mode", "decode", "--input-row-idx", "0", "--reduce", "argmax"]),
        ("prefill_logits", 1025, ["--mode", "prefill", "--input-row-idx", last,
                                  "--numerics", "fp32"]),
        ("prefill_logsumexp", 1025, ["--mode", "prefill", "--input-row-idx", "0",
                                     "--reduce", "logsumexp"]),
        ("prefill_topk", 1025, ["--mode", "prefill", "--input-row-idx", last, "--reduce",
                                "topk:4", "--output-values", "{out}_values.npy",
                                "--scatter-route", "forward"]),
    ]
    for name, x_rows, flags in calls:
        outputs = {}
        for who in ("single", "mpi"):
            out = runner.path(f"{name}_{who}")
            args = ["run", "--weights", weights, "--input", x[x_rows], "--output", out + ".npy",
                    "--threads", "1", "--timeout", "60"] + [f.format(out=out) for f in flags]
            cmd = runner.mpi(n, args) if who == "mpi" else [runner.lmhead] + args
            proc, _ = runner.run(cmd)
            outputs[who] = (out, proc.stdout)
        (single, _), (mpi, stdout) = outputs["single"], outputs["mpi"]
        compared = [(single + ".npy", mpi + ".npy")]
        if os.path.exists(single + "_values.npy"):
            compared.append((single + "_values.npy", mpi + "_values.npy"))
        if os.path.isdir(single + "_devices"):
            files = sorted(os.listdir(single + "_devices"))
            assert files == sorted(os.listdir(mpi + "_devices")) and len(files) == devices, files
            compared += [(os.path.join(single + "_devices", f), os.path.join(mpi + "_devices", f))
                         for f in files]
        for want, got in compared:
            if not filecmp.cmp(want, got, shallow=False):
                sys.exit(f"FAILED {case} {name}: {got} differs from the one-process {want}")
        if "--json" in flags:
            check_traffic(case, name, json.loads(stdout), rows, cols, n, x_rows, flags)
        print(f"ok {case} {name}: {len(compared)} files identical")
    check_thread_share(runner, weights, x, n)


def check_thread_share(runner, weights, x, n):
    """With the default --threads 0, the ranks of this host, unbound or bound
    alike, run no more pool threads together than it has CPUs (or one each)."""
    args = ["run", "--weights", weights, "--input", x[7], "--output", runner.path("threads.npy"),
            "--mode", "decode", "--json"]
    proc, _ = runner.run(runner.mpi(n, args))
    threads = [rank["threads"] for rank in json.loads(proc.stdout)["ranks"]]
    cpus = len(os.sched_getaffinity(0))
    assert len(threads) == n and min(threads) >= 1, threads
    assert sum(threads) <= max(cpus, n), f"{n} ranks on {cpus} CPUs run {threads} threads"
    print(f"ok {n} ranks on {cpus} CPUs run {threads} threads")


def check_traffic(case, name, report, rows, cols, n, x_rows, flags):
    devices = rows * cols
    assert report["processes"] == n and len(report["ranks"]) == n, report
    root = report["ranks"][0]
    others = devices - devices // n
    if "--reduce" in flags:  # topk:5: k candidates per device per row, never V/D logits.
        k = int(flags[flags.index("--reduce") + 1].split(":")[1])
        want_combine = x_rows * others * k * CANDIDATE_BYTES
    else:
        want_combine = x_rows * others * (VOCAB // devices) * 4
    got_combine = root["network"]["combine"]["bytes_received"]
    assert got_combine == want_combine, (case, name, got_combine, want_combine)
    route = flags[flags.index("--scatter-route") + 1] if "--scatter-route" in flags else "forward"
    from_row = int(flags[flags.index("--input-row-idx") + 1])
    sent = sum(r["network"]["scatter"]["messages_sent"] for r in report["ranks"])
    received = sum(r["network"]["scatter"]["messages_received"] for r in report["ranks"])
    want = scatter_messages(rows, cols, n, from_row, route)
    assert sent == received == want, (case, name, route, sent, received, want)


def expect_every_rank_stops(runner, n, args, timeout, needles, label, world=None):
    """Every rank of the world (n, or `world` for an MPMD launch that starts n
    ranks of its first program) prints an error holding all needles in time."""
    proc, elapsed = runner.run(runner.mpi(n, args, tag_output=True), timeout=timeout + 60,
                               expect_ok=False)
    n = world or n
    assert proc.returncode != 0, f"{label}: mpirun succeeded"
    assert elapsed < timeout, f"{label}: took {elapsed:.1f} s, more than the {timeout} s timeout"
    reported = set()
    for line in proc.stderr.splitlines():
        match = re.match(r"\[\d+,(\d+)\]<stderr>:lmhead: error: (.*)", line)
        if match and all(needle in match.group(2) for needle in needles):
            reported.add(int(match.group(1)))
    assert reported == set(range(n)), f"{label}: ranks {sorted(reported)} reported\n{proc.stderr}"
    print(f"ok faults {label}: {n} ranks stopped in {elapsed:.1f} s")


def faults(runner):
    weights = runner.make_weights("weights", "2x4")
    other = runner.make_weights("other", "2x4", seed=8)
    x = make_inputs(runner)
    run = ["run", "--input", x[7], "--threads", "1", "--timeout", "10"]
    # Rank 2 of 4 holds devices 4 and 5; rank 1 holds 2 and 3.
    missing = runner.path("missing")
    shutil.copytree(weights, missing)
    os.remove(os.path.join(missing, "device_005.shard"))
    expect_every_rank_stops(runner, 4, run + ["--weights", missing], 10,
                            ["rank 2 of 4 failed", "device_005.shard"], "missing shard")
    truncated = runner.path("truncated")
    shutil.copytree(weights, truncated)
    with open(os.path.join(truncated, "device_003.shard"), "r+b") as shard:
        shard.truncate(os.path.getsize(shard.name) - 4096)
    expect_every_rank_stops(runner, 4, run + ["--weights", truncated], 10,
                            ["rank 1 of 4 failed", "device_003.shard", "truncated"],
                            "truncated shard")
    # Two hosts with different conversions: an MPMD launch, 2 ranks on each.
    mpmd = run + ["--weights", weights, ":", "-n", "2", runner.lmhead] + run + ["--weights", other]
    expect_every_rank_stops(runner, 2, mpmd, 10, ["different", "manifest.json", "ranks 2,3"],
                            "different manifests", world=4)
    expect_every_rank_stops(runner, 3, run + ["--weights", weights], 10,
                            ["3 processes cannot share the mesh's 8 devices"], "3 ranks")


def hang(runner):
    for mode, rank in (("hang", 1), ("die", 2)):
        cmd = [runner.mpirun, "--allow-run-as-root", "--oversubscribe", "--tag-output", "-n", "4",
               runner.probe, mode, str(rank), "2"]
        proc, elapsed = runner.run(cmd, timeout=90, expect_ok=False)
        assert proc.returncode != 0, f"{mode}: mpirun succeeded"
        assert elapsed < 20, f"{mode}: the ranks took {elapsed:.1f} s to stop (timeout 2 s)"
        if mode == "hang":
            assert f"nothing from rank {rank} within 2 s" in proc.stderr, proc.stderr
        print(f"ok {mode}: rank {rank} {mode}s, every rank stopped in {elapsed:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lmhead", required=True)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--work", required=True)
    parser.add_argument("case", help="RxC-N, faults or hang")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    runner = Runner(args)
    if args.case == "faults":
        faults(runner)
    elif args.case == "hang":
        hang(runner)
    else:
        equivalence(runner, args.case)


if __name__ == "__main__":
    main()
