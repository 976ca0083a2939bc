"""How much a metric moves with overlap: bootstrap intervals, permutation tests, regression.

Everything is vectorized over resamples. A bootstrap resample is drawn as a matrix of
multinomial counts, so the sums it needs are one matrix product (counts @ columns); a ratio
metric (perplexity per token, F1 over turns) is resampled by example, i.e. the cluster
bootstrap its per-example sums call for. Clean, dirty and untested (too short) examples are
resampled separately (stratified), and "all" is their union, so every subset and difference
comes from the same resamples. Work is cut into chunks of about ``CHUNK_CELLS`` matrix cells
to bound memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from contamkit.analysis.metrics import Metric

CHUNK_CELLS = 1 << 22
LEVEL = 0.95
MIN_EXAMPLES = 2  # smallest group given an interval


@dataclass(frozen=True)
class Estimate:
    """A point value with a percentile bootstrap interval (nan where undefined)."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {k: (None if np.isnan(v) else float(v)) for k, v in asdict(self).items()}


def resampled_sums(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """[n_boot, k] column sums over bootstrap resamples of the rows of ``columns`` [n, k]."""
    n, k = columns.shape
    out = np.zeros((n_boot, k))
    if n == 0:
        return out
    p = np.full(n, 1.0 / n)
    step = max(1, CHUNK_CELLS // n)
    for s in range(0, n_boot, step):
        counts = rng.multinomial(n, p, size=min(step, n_boot - s))
        out[s:s + len(counts)] = counts @ columns
    return out


def interval(point: float, replicates: np.ndarray, n: int = MIN_EXAMPLES) -> Estimate:
    """Percentile interval of the finite replicates at ``LEVEL``; none when the smallest group
    behind the point has fewer than ``MIN_EXAMPLES`` examples (every resample would be it)."""
    finite = replicates[np.isfinite(replicates)]
    if not np.isfinite(point) or finite.size == 0 or n < MIN_EXAMPLES:
        return Estimate(float(point), np.nan, np.nan)
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Estimate(float(point), float(low), float(high))


def compare_groups(metric: Metric, num: np.ndarray, den: np.ndarray, dirty: np.ndarray,
                   n_boot: int, n_perm: int, rng: np.random.Generator,
                   tested: np.ndarray | None = None) -> dict:
    """The metric on all examples, on clean ones (tested, no overlap), on dirty ones and
    ``without_dirty`` (all but the dirty: the paper's "excluding every example with any
    overlap"; equal to clean unless some examples are too short to test), with 95 % intervals;
    the differences without_dirty - all and dirty - clean, and a two-sided permutation p-value
    for dirty - clean."""
    tested = np.ones(len(num), bool) if tested is None else tested
    columns = np.stack([num, den], axis=1)
    strata = {"clean": tested & ~dirty, "dirty": tested & dirty, "untested": ~tested}
    sums = {k: columns[mask].sum(0) for k, mask in strata.items()}
    reps = {k: resampled_sums(columns[mask], n_boot, rng) for k, mask in strata.items()}

    def values(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        subsets = {"all": s["clean"] + s["dirty"] + s["untested"], "clean": s["clean"],
                   "dirty": s["dirty"], "without_dirty": s["clean"] + s["untested"]}
        return {k: metric.value(v[..., 0], v[..., 1]) for k, v in subsets.items()}

    points, boots = values(sums), values(reps)
    count = {k: int(mask.sum()) for k, mask in strata.items()}
    sizes = {"all": len(num), "clean": count["clean"], "dirty": count["dirty"],
             "without_dirty": count["clean"] + count["untested"]}
    out = {k: interval(float(points[k]), boots[k], sizes[k]).as_dict() for k in points}
    for a, b in (("without_dirty", "all"), ("dirty", "clean")):
        out[f"{a}_minus_{b}"] = interval(float(points[a] - points[b]), boots[a] - boots[b],
                                         min(sizes[a], sizes[b])).as_dict()
    out["dirty_minus_clean"]["p_value"] = permutation_p(metric, columns[tested], dirty[tested],
                                                        n_perm, rng)
    return out


def permutation_p(metric: Metric, columns: np.ndarray, dirty: np.ndarray, n_perm: int,
                  rng: np.random.Generator) -> float | None:
    """Two-sided p-value of metric(dirty) - metric(clean) under random relabelling of which
    examples are dirty (add-one corrected, so never 0); None when a group is empty."""
    n, n_dirty = len(columns), int(dirty.sum())
    if n_dirty in (0, n) or n_perm <= 0:
        return None
    total = columns.sum(0)

    def diff(dirty_sums: np.ndarray) -> np.ndarray:
        rest = total - dirty_sums
        return (metric.value(dirty_sums[..., 0], dirty_sums[..., 1])
                - metric.value(rest[..., 0], rest[..., 1]))

    observed = abs(float(diff(columns[dirty].sum(0))))
    extreme = 0
    step = max(1, CHUNK_CELLS // n)
    for s in range(0, n_perm, step):
        keys = rng.random((min(step, n_perm - s), n))
        chosen = np.argpartition(keys, n_dirty - 1, axis=1)[:, :n_dirty]  # a random n_dirty-subset
        stats = np.abs(diff(columns[chosen].sum(1)))
        extreme += int(np.sum(stats >= observed * (1 - 1e-12)))
    return (1 + extreme) / (1 + n_perm)


def bucket_labels(edges: tuple[float, ...]) -> list[str]:
    """"0" then "(a, b]" for consecutive edges, in percent, ending at 100 %."""
    bounds = [0.0, *edges, 1.0]
    pairs = zip(bounds[:-1], bounds[1:], strict=True)
    return ["0"] + [f"({100 * a:g}, {100 * b:g}] %" for a, b in pairs]


def bucket_index(fraction: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """0 for no overlap, then 1 + the interval (a, b] of ``[0, *edges, 1]`` holding it."""
    return np.where(fraction > 0, 1 + np.searchsorted(np.asarray(edges), fraction, "left"), 0)


def by_bucket(metric: Metric, num: np.ndarray, den: np.ndarray, fraction: np.ndarray,
              edges: tuple[float, ...], n_boot: int, rng: np.random.Generator) -> list[dict]:
    """The metric with a bootstrap interval in each overlap bucket (empty buckets kept);
    examples whose fraction is nan (too short to test) are in none."""
    index = np.where(np.isnan(fraction), -1, bucket_index(np.nan_to_num(fraction), edges))
    rows = []
    for b, label in enumerate(bucket_labels(edges)):
        mask = index == b
        columns = np.stack([num[mask], den[mask]], axis=1)
        sums = columns.sum(0)
        reps = resampled_sums(columns, n_boot, rng)
        estimate = interval(float(metric.value(sums[0], sums[1])),
                            metric.value(reps[:, 0], reps[:, 1]), int(mask.sum()))
        rows.append({"bucket": label, "n": int(mask.sum()),
                     "mean_overlap": float(fraction[mask].mean()) if mask.any() else None,
                     **estimate.as_dict()})
    return rows


def regression(x: np.ndarray, y: np.ndarray, n_boot: int, n_perm: int,
               rng: np.random.Generator) -> dict:
    """Least-squares line y = intercept + slope x, with a pairs-bootstrap interval for the
    slope, its classical standard error and a two-sided permutation p-value (y shuffled)."""
    n = len(x)
    out: dict = {"n": n}
    xc = x - x.mean() if n else x
    sxx = float(xc @ xc)
    if n < 3 or sxx == 0.0:
        return {**out, "slope": None, "note": "overlap fraction does not vary: no slope"}
    yc = y - y.mean()
    slope = float(xc @ yc) / sxx
    intercept = float(y.mean() - slope * x.mean())
    residual = yc - slope * xc
    syy = float(yc @ yc)
    se = float(np.sqrt(residual @ residual / (n - 2) / sxx))
    columns = np.stack([np.ones(n), x, y, x * x, x * y], axis=1)
    s = resampled_sums(columns, n_boot, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = (s[:, 4] - s[:, 1] * s[:, 2] / s[:, 0]) / (s[:, 3] - s[:, 1] ** 2 / s[:, 0])
    ci = interval(slope, boot).as_dict()
    extreme = 0
    step = max(1, CHUNK_CELLS // n)
    for start in range(0, n_perm, step):
        order = np.argsort(rng.random((min(step, n_perm - start), n)), axis=1)
        extreme += int(np.sum(np.abs(yc[order] @ xc) >= abs(slope) * sxx * (1 - 1e-12)))
    return {**out, "slope": slope, "intercept": intercept, "slope_low": ci["low"],
            "slope_high": ci["high"], "slope_se": se,
            "r2": 1.0 - float(residual @ residual) / syy if syy else None,
            "p_value": (1 + extreme) / (1 + n_perm) if n_perm > 0 else None}
