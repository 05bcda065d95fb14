"""Balanced streams, side by side in one run: what re-balancing data without random access costs.

A stream of 200,000 cheap labelled samples (``(index, class)`` tuples), 10 classes at
imbalance ratio 100 (exponential profile), shuffled; the target is every class equally
often (``strategy="balanced"``). Methods:

- plain iteration of the stream (reads the label of each sample; the floor);
- ``classbalance.stream.BalancedStream`` with ``class_counts`` (from a labels-only pass,
  ``count_labels``) and with counts estimated online (warm-up 10,000), buffer 10,000;
- rejection resampling, tf.data's rule (``rejection_resample``) in NumPy, vectorized per
  chunk like ours: a sample of class c is kept with probability
  ``(q_c / p_c) / max(q / p)``; the stream is read again until it has served as many samples
  as ours;
- a multi-label stream (10 labels, long-tailed, about 1.3 labels per row).

Printed per method: samples served per second, samples read per sample served, the largest
deviation of the served class shares from the target over the first 10,000 served and over
the pass, the median distance between repeats of one sample and the largest repeat count;
the floor of any Python stream (a generator that reads the label and yields); then the
repeat spacing (all repeats, and the rarest class's) and peak traced memory at buffers of
1k, 10k and 100k, and the time to resume after batch k (k = 10 ... 10,000) for a sequence
input (re-opened by index) and an iterator input (re-read and skipped to the position).

Times are CPU seconds of this process (``time.process_time``), the best of ``--repeats``
rounds in which every method runs once, so load from other jobs does not bias the ratios.

Run: ``python benchmarks/bench_streams.py [--n 200000]`` (about a minute).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import time
import tracemalloc
import warnings

import numpy as np

from classbalance.stream import BalancedStream, count_labels

K, RATIO = 10, 100
# CPU time of this process: the machine is shared, and wall time would count the time other
# jobs held the cores (longer runs are hit more often, which biases ratios).
clock = time.process_time


def long_tail(n: int, seed: int = 0) -> tuple[list[tuple[int, int]], np.ndarray]:
    weights = RATIO ** (-np.arange(K) / (K - 1))
    counts = np.floor(n * weights / weights.sum()).astype(np.int64)
    y = np.repeat(np.arange(K), counts)
    np.random.default_rng(seed).shuffle(y)
    return list(enumerate(y.tolist())), counts


def shares_error(
    classes: np.ndarray, target: np.ndarray, first: int = 10_000
) -> tuple[float, float]:
    head = np.bincount(classes[:first], minlength=len(target)) / min(first, len(classes))
    whole = np.bincount(classes, minlength=len(target)) / len(classes)
    return float(np.abs(head - target).max()), float(np.abs(whole - target).max())


def best_time(fn, repeats):
    """The shortest of ``repeats`` runs (the machine is shared: the minimum is the cost)."""
    out, best = None, float("inf")
    for _ in range(repeats):
        t = clock()
        out = fn()
        best = min(best, clock() - t)
    return out, best


def read_label_and_yield(data):
    for s in data:
        s[1]  # the floor: read the label, hand the sample on
        yield s


def run_stream(stream, repeats=1):
    def one_pass():
        stream.set_epoch(0)
        return list(stream)

    out, dt = best_time(one_pass, repeats)
    return out, len(out) / dt, stream.stats()


def tail_median_distance(out, tail):
    """Median distance (served samples) between consecutive copies of one tail-class sample."""
    ids = np.array([i for i, c in out if c == tail])
    pos = np.flatnonzero(np.array([c for _, c in out]) == tail)
    order = np.argsort(ids, kind="stable")
    ids, pos = ids[order], pos[order]
    same = ids[1:] == ids[:-1]
    gaps = (pos[1:] - pos[:-1])[same]
    return float(np.median(gaps)) if len(gaps) else None


def rejection(data, counts, n_serve, chunk=4096, seed=0):
    """tf.data's rejection rule, vectorized per chunk; reads the stream again until n_serve."""
    rng = np.random.default_rng(seed)
    p = counts / counts.sum()
    q = np.full(K, 1 / K)
    keep = (q / p) / (q / p).max()
    served, read = [], 0
    t = clock()
    n_out = 0
    while n_out < n_serve:
        it = iter(data)
        while chunk_items := list(itertools.islice(it, chunk)):
            read += len(chunk_items)
            labels = np.fromiter((s[1] for s in chunk_items), np.int64, len(chunk_items))
            kept = np.flatnonzero(rng.random(len(labels)) < keep[labels])
            served.extend(chunk_items[i] for i in kept.tolist())
            n_out += len(kept)
            if n_out >= n_serve:
                break
    dt = clock() - t
    return served[:n_serve], n_out / dt, read / n_out


def memory_peak(data, counts, buffer_size):
    stream = BalancedStream(
        data, label=1, strategy="balanced", class_counts=counts, buffer_size=buffer_size, seed=0
    )
    tracemalloc.start()
    for _ in stream:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def multilabel(n, seed=0):
    rng = np.random.default_rng(seed)
    p = 0.6 * RATIO ** (-np.arange(K) / (K - 1))
    Y = (rng.random((n, K)) < p).astype(np.int64)
    return list(enumerate(Y.tolist()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--buffer", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds, best kept")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    data, counts = long_tail(args.n)
    target = np.full(K, 1 / K)
    print(f"stream: {len(data)} samples, {K} classes, imbalance ratio {counts[0] / counts[-1]:.0f}")
    print(f"natural shares: {np.round(counts / counts.sum(), 4).tolist()}\n")

    t = clock()
    lc = count_labels(s[1] for s in data)
    label_pass = clock() - t
    kw = {"label": 1, "strategy": "balanced", "buffer_size": args.buffer, "seed": 0}
    streams = {
        "BalancedStream, class_counts": BalancedStream(data, class_counts=lc, **kw),
        "BalancedStream, online (warm-up 10k)": BalancedStream(
            data, classes=range(K), warmup=10_000, **kw
        ),
    }
    # Timed side by side: rounds of (plain, floor, each stream), the best of each kept, so a
    # burst of load from other jobs on the shared machine hits every method alike.
    methods = {
        "plain iteration": lambda: [None] * sum(1 for s in data if s[1] >= 0),
        "floor: read the label + yield": lambda: list(read_label_and_yield(data)),
    }
    for name, stream in streams.items():
        methods[name] = lambda stream=stream: (stream.set_epoch(0), list(stream))[1]
    best = dict.fromkeys(methods, float("inf"))
    outs = {}
    for _ in range(args.repeats):
        for name, fn in methods.items():
            t = clock()
            outs[name] = fn()
            best[name] = min(best[name], clock() - t)
    rows = [
        (name, len(outs[name]) / best[name], 1.0, None, None, None, None)
        for name in list(methods)[:2]
    ]
    for name, stream in streams.items():
        out, st = outs[name], stream.stats()
        err = shares_error(np.array([s[1] for s in out]), target)
        rows.append(
            (
                name,
                len(out) / best[name],
                st["read_per_served"],
                *err,
                st["median_repeat_distance"],
                st["max_repeats"],
            )
        )
    n_ours = len(outs["BalancedStream, class_counts"])
    served, rate, reads = rejection(data, counts, n_ours)
    err = shares_error(np.array([s[1] for s in served]), target)
    rows.append(("rejection resampling (tf.data rule)", rate, reads, *err, None, None))

    Y = multilabel(args.n)
    lcm = count_labels((r for _, r in Y), multilabel=True)
    ml = BalancedStream(Y, multilabel=True, class_counts=lcm, **kw)
    out, rate, st = run_stream(ml)
    served_counts = np.array(list(st["served_shares"].values()))
    natural = lcm.counts / lcm.counts.sum()
    rows.append(
        (
            "multi-label BalancedStream",
            rate,
            st["read_per_served"],
            None,
            float(np.abs(served_counts - target).max()),
            st["median_repeat_distance"],
            st["max_repeats"],
        )
    )

    header = (
        f"{'method':38s} {'served/s':>10s} {'read/served':>11s} {'err@10k':>8s} "
        f"{'err pass':>8s} {'med. dist':>9s} {'max rep':>7s}"
    )
    print(header)
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    for name, rate, reads, e10, epass, dist, rep in rows:
        print(
            f"{name:38s} {rate:10,.0f} {reads:11.2f} {fmt(e10, '8.3f')} {fmt(epass, '8.3f')} "
            f"{fmt(dist, '9.0f')} {fmt(rep, '7')}"
        )
    ours, online, floor_rate, rej = rows[2][1], rows[3][1], rows[1][1], rows[4][1]
    print(
        f"\nthroughput vs plain iteration: {ours / rows[0][1]:.2f}x (class_counts), "
        f"{online / rows[0][1]:.2f}x (online); vs the floor (read label + yield): "
        f"{ours / floor_rate:.2f}x; vs rejection: {ours / rej:.1f}x"
    )
    print(
        f"per sample: plain {1e9 / rows[0][1]:.0f} ns, floor {1e9 / floor_rate:.0f} ns, "
        f"stream {1e9 / ours:.0f} ns"
    )
    print(f"labels-only pass (count_labels): {label_pass:.3f} s")
    print(f"multi-label: natural label shares {np.round(natural, 3).tolist()}")
    print(f"             served label shares  {np.round(served_counts, 3).tolist()}")

    print(
        "\nrepeat spacing and memory vs buffer size (median served samples between copies; "
        "tail = the rarest class, about 25 copies per sample):"
    )
    print(f"  {'buffer':>8s} {'all repeats':>11s} {'tail':>7s} {'buffer/4':>8s} {'peak MiB':>8s}")
    for b in (1_000, 10_000, 100_000):
        stream = BalancedStream(data, class_counts=lc, **{**kw, "buffer_size": b})
        out, _, st = run_stream(stream)
        tail = tail_median_distance(out, K - 1)
        print(
            f"  {b:>8,} {st['median_repeat_distance']:>11,.0f} {tail:>7,.0f} {b // 4:>8,} "
            f"{memory_peak(data, lc, b) / 2**20:>8.1f}"
        )

    resume_table(data, lc, kw)


class Reiterable:
    """The same samples without random access (no len, no indexing): re-read to resume."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


def resume_table(data, lc, kw, batch=16):
    """Time of load_state_dict + the next batch after batch k, for both kinds of input."""
    print(f"\nresume after batch k (batch {batch}): load_state_dict + next batch, seconds")
    print(
        f"  {'k':>6s} {'sequence input':>15s} {'iterator input':>15s} {'state KiB (seq/iter)':>20s}"
    )
    for k in (10, 100, 1_000, 10_000):
        row, sizes = [], []
        for source in (data, Reiterable(data)):
            run = BalancedStream(source, class_counts=lc, **kw)
            it = iter(run)
            next(itertools.islice(it, k * batch - 1, None))
            state = run.state_dict()
            sizes.append(len(pickle.dumps(state)) / 1024)
            times = []
            for _ in range(3):  # the best of 3 restores (shared machine)
                fresh = BalancedStream(source, class_counts=lc, **kw)
                t = clock()
                fresh.load_state_dict(state)
                list(itertools.islice(iter(fresh), batch))
                times.append(clock() - t)
            row.append(min(times))
        print(f"  {k:>6,} {row[0]:>15.4f} {row[1]:>15.4f} {sizes[0]:>10.0f} / {sizes[1]:<9.0f}")


if __name__ == "__main__":
    main()
