"""The figures of a GPU check run (gpu-check/run.sh) as Markdown tables: throughput ratios
against PyTorch eager, mixing as a share of the ResNet-18 step beside timm's Mixup, and
the quick table's results. Usage: python3 gpu-check/summarise.py OUT_DIR
"""

import csv
import os
import statistics
import sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def models(out):
    """Per case, the median over rounds of mixaug/torch for training and inference."""
    ratios = {}
    rates = {}
    for r in (1, 2):
        ours = {(x["case"], x["batch"]): x for x in rows(f"{out}/models-mixaug-{r}.csv")}
        theirs = {(x["case"], x["batch"]): x for x in rows(f"{out}/models-torch-{r}.csv")}
        for key in ours.keys() & theirs.keys():
            for kind in ("train_img_s", "inference_img_s"):
                a, b = float(ours[key][kind]), float(theirs[key][kind])
                ratios.setdefault((key, kind), []).append(a / b)
                rates.setdefault((key, kind), []).append((a, b))
    if not ratios:
        print("\n(no paired throughput figures: see the models-*.log files)")
        return
    print("\n## Throughput, mixaug vs PyTorch eager (images/s, median over rounds; ratio > 1: mixaug faster)\n")
    print("| network | batch | mode | mixaug | PyTorch | ratio (per round) |")
    print("|---|---|---|---|---|---|")
    for (key, kind) in sorted(ratios):
        pairs = rates[(key, kind)]
        per_round = ", ".join(f"{x:.2f}" for x in ratios[(key, kind)])
        print(f"| {key[0]} | {key[1]} | {kind.split('_')[0]} | "
              f"{statistics.median(a for a, _ in pairs):.0f} | "
              f"{statistics.median(b for _, b in pairs):.0f} | "
              f"**{statistics.median(ratios[(key, kind)]):.2f}×** ({per_round}) |")


def mixing(out):
    ours = rows(f"{out}/mix-mixaug.csv")
    if not ours:
        print("\n(no mixing figures: see mix-mixaug.log)")
        return
    timm = {(x["method"], x["shape"]): float(x["mix_ms"]) for x in rows(f"{out}/mix-timm.csv")}
    step = float(ours[0]["step_ms"])
    print(f"\n## Mixing (sample + apply, median ms) beside the ResNet-18 CIFAR step "
          f"at batch 128 ({step:.2f} ms)\n")
    shapes = list(dict.fromkeys(x["shape"] for x in ours))
    # The step is ResNet-18's at 32×32: a share only means something for that shape.
    header = " | ".join([f"{shapes[0]} ms | share of step"] + [f"{s} ms" for s in shapes[1:]])
    print(f"| method | {header} | timm at {' / '.join(shapes)} |")
    print("|---|---|---|" + "---|" * (len(shapes) - 1) + "---|")
    by_method = {}
    for x in ours:
        by_method.setdefault(x["method"], {})[x["shape"]] = float(x["mix_ms"])
    worst = 0.0
    for method, per_shape in by_method.items():
        cells = []
        for s in shapes:
            ms = per_shape.get(s)
            if s == shapes[0]:
                share = ms / step * 100 if ms is not None else float("nan")
                worst = max(worst, share) if ms is not None else worst
                cells.append(f"{ms:.3f} | {share:.2f} %" if ms is not None else "— | —")
            else:
                cells.append(f"{ms:.3f}" if ms is not None else "—")
        t = [timm.get((method, s)) for s in shapes]
        theirs = " / ".join(f"{v:.3f} ms ({per_shape[s] / v:.2f}×)" for v, s in zip(t, shapes)
                            if v is not None and s in per_shape)
        print(f"| {method} | {' | '.join(cells)} | {theirs or '—'} |")
    print(f"\nLargest share of the step at {shapes[0]}: {worst:.2f} % (target ≤ 1 %); "
          "(×: mixaug time / timm time)")


def quick(out):
    report = f"{out}/quick/report.md"
    if not os.path.exists(report):
        print("\n(no quick-table report: see quick-table.log)")
        return
    print("\n## Quick table (report.md's table)\n")
    with open(report) as f:
        lines = [line.rstrip() for line in f if line.startswith("|")]
    print("\n".join(lines[:20]))


def main():
    out = sys.argv[1]
    models(out)
    mixing(out)
    quick(out)


if __name__ == "__main__":
    main()
