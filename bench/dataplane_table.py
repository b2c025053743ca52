"""The dataplane bench's arithmetic and table (bench/dataplane.py), apart from the labs, so that a
unit test can check it without root: per path its median Gb/s and ratios to the bare veth
measured just before it, and each filtered path's ratio to the same path on hosts whose agents
run no firewall at all (issue 14's "0.8x of the same path with no firewall").

Samples are lists in round order, so the n-th sample of two paths comes from the same round:
the filtered pair is measured right after its no-firewall pair (with a bare veth between), and
their ratio is taken per round, then the median, as for the ratio to the bare veth."""

from __future__ import annotations

Sample = tuple[float, float]
"""(path Gb/s, the adjacent bare veth's Gb/s)"""

SECURED = " + security groups"
NO_FIREWALL = ", no firewall on the hosts"
OVS_RECIPE_GBPS = 1.0  # the recipe's hand-built OVS userspace figure (two namespaces on one bridge, TX off)
HANDBUILT = "hand-built"  # in the rows of hand-built paths (bench/lb_handbuilt.py, bench/ovs_handbuilt.py)
TARGET = 0.8  # issue 14: security groups at 0.8x of the bare veth, and of the same path with no firewall


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def unfiltered_twin(path: str) -> str | None:
    """The row of the same path on hosts with no firewall, for a "+ security groups" row
    ("linuxbridge vxlan + security groups" -> "linuxbridge vxlan, no firewall on the hosts";
    a suffix such as " (MTU 8950)" stays at the end)."""
    return path.replace(SECURED, NO_FIREWALL, 1) if SECURED in path else None


def summary(samples: dict[str, list[Sample]], references: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Per path: median Gb/s and its spread, the median and spread of its ratios to the adjacent
    bare veth, and for a filtered path with a no-firewall twin measured in the same rounds, the
    median and spread of the per-round ratios to it (``fw``, ``fw_min``, ``fw_max``).
    ``references``: path -> a hand-built path measured in the same rounds (bench/ovs_handbuilt.py
    beside the OVS lab); the median and spread of the per-round Gb/s ratios to it (``hb``,
    ``hb_min``, ``hb_max``)."""
    out: dict[str, dict[str, float]] = {}
    bases = [base for runs in samples.values() for _, base in runs]
    if bases:
        out["bare veth"] = {"gbps": median(bases), "ratio": 1.0, "ratio_min": 1.0, "ratio_max": 1.0,
                            "gbps_min": min(bases), "gbps_max": max(bases)}  # fmt: skip
    for path, runs in samples.items():
        ratios = [gbps / base if base else 0.0 for gbps, base in runs]
        gbps = [g for g, _ in runs]
        out[path] = {"gbps": median(gbps), "ratio": median(ratios), "ratio_min": min(ratios),
                     "ratio_max": max(ratios), "gbps_min": min(gbps), "gbps_max": max(gbps)}  # fmt: skip
        twin = samples.get(unfiltered_twin(path) or "")
        if twin:
            fw = [g / t if t else 0.0 for (g, _), (t, _) in zip(runs, twin)]
            out[path].update(fw=median(fw), fw_min=min(fw), fw_max=max(fw))
        reference = samples.get((references or {}).get(path, ""))
        if reference:
            hb = [g / h if h else 0.0 for (g, _), (h, _) in zip(runs, reference)]
            out[path].update(hb=median(hb), hb_min=min(hb), hb_max=max(hb))
    return out


def target(path: str, r: dict[str, float]) -> str:
    """Issue 14's targets; a hand-built row is a reference, not a target's subject. Where a path
    has a hand-built reference of the same run (``hb``), its per-round ratio to it follows."""
    if path.startswith("linuxbridge") and SECURED in path:
        return f">= {TARGET:.2f}x: {'met' if r['ratio'] >= TARGET else 'NOT met'}"
    if path.startswith("OVS") and HANDBUILT not in path:
        goal = f">= {OVS_RECIPE_GBPS} Gb/s (recipe): {'met' if r['gbps'] >= OVS_RECIPE_GBPS else 'NOT met'}"
        if "hb" in r:
            goal += f"; x hand-built one bridge: {r['hb']:.2f} ({r['hb_min']:.2f}-{r['hb_max']:.2f})"
        return goal
    return ""


def table(results: dict[str, dict[str, float]], rounds: int, seconds: float) -> list[str]:
    """The printed table: Gb/s, x the bare veth, for filtered rows x the no-firewall row, and CPU
    seconds per GB moved (both iperf3 processes and the lab's vswitchds) where measured."""
    lines = [
        f"{rounds} rounds of {seconds:g} s; ratios: medians of per-round ratios (x veth: to the bare veth measured "
        "just before; x nofw: to the same path on hosts with no firewall, same round)",
        f"{'path':<48}{'Gb/s':>7}{'(min-max)':>13}{'x veth':>8}{'(min-max)':>11}{'x nofw':>8}{'(min-max)':>11}{'CPU s/GB':>9}  target",
    ]
    for path, r in results.items():
        spread = f"{r['gbps_min']:.2f}-{r['gbps_max']:.2f}"
        ratios = f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
        fw = " " * 19
        if "fw" in r:
            fw_spread = f"{r['fw_min']:.2f}-{r['fw_max']:.2f}"
            fw = f"{r['fw']:>8.2f}{fw_spread:>11}"
        cpu = f"{r['cpu_s_per_gb']:>9.2f}" if r.get("cpu_s_per_gb") else f"{'-':>9}"
        goal = target(path, r)
        if "fw" in r and path.startswith("linuxbridge"):
            goal += f"; >= {TARGET:.2f}x nofw: {'met' if r['fw'] >= TARGET else 'NOT met'}"
        lines.append(f"{path:<48}{r['gbps']:>7.2f}{spread:>13}{r['ratio']:>8.2f}{ratios:>11}{fw}{cpu}  {goal}".rstrip())
    return lines
