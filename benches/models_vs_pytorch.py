"""mixaug's `models` bench against `pytorch_models.py` on the same machine, alternating:
each round runs ours (criterion, `cargo bench -p mixaug-benches --bench models`) then
PyTorch/timm eager, and the ratios ours / theirs are taken per round, then their median
-- on a shared machine, ratios of runs minutes apart move more than the paired ones.
Run by hand from the repository root (never by CI), with the Python that has torch (and
timm for the transformers):

    python benches/models_vs_pytorch.py --models deit_small swin_tiny --rounds 3
    python benches/models_vs_pytorch.py --features tch --device tch   # LibTorch backend

Writes each round's CSVs (`ours-R.csv`, `torch-R.csv`) under `--out` and prints a
Markdown table: images per second (median over rounds) and the ratio per round and its
median (> 1: mixaug faster).
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path):
    with open(path, newline="") as f:
        return {row["case"]: row for row in csv.DictReader(f)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["deit_small", "swin_tiny"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vit-batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=5, help="PyTorch's timed steps")
    parser.add_argument("--features", default="flex", help="the bench's backend feature")
    parser.add_argument("--device", default=None, help="MIXAUG_BENCH_DEVICE (default: the feature's)")
    parser.add_argument("--out", default="target/models-vs-pytorch")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ, MIXAUG_BENCH_MODELS=",".join(args.models),
               MIXAUG_BENCH_VIT_BATCH=str(args.vit_batch))
    if args.device:
        env["MIXAUG_BENCH_DEVICE"] = args.device
    cargo = ["cargo", "bench", "-p", "mixaug-benches", "--bench", "models"]
    if args.features != "flex":
        cargo += ["--no-default-features", "--features", args.features]
    cargo += ["--", "--warm-up-time", "1", "--measurement-time", "3"]
    torch = [sys.executable, os.path.join(HERE, "pytorch_models.py"), "--models", *args.models,
             "--vit-batch", str(args.vit_batch), "--iterations", str(args.iterations)]
    rounds = []
    for r in range(1, args.rounds + 1):
        ours_csv = os.path.abspath(os.path.join(args.out, f"ours-{r}.csv"))
        torch_csv = os.path.abspath(os.path.join(args.out, f"torch-{r}.csv"))
        print(f"round {r}: mixaug ({args.features})", flush=True)
        subprocess.run(cargo, env=dict(env, MIXAUG_BENCH_CSV=ours_csv), check=True,
                       stdout=subprocess.DEVNULL)
        print(f"round {r}: PyTorch", flush=True)
        subprocess.run(torch + ["--csv", torch_csv], check=True)
        rounds.append((read(ours_csv), read(torch_csv)))
    print(f"\n| network | batch | mode | mixaug img/s | PyTorch img/s | ratio (per round) |")
    print("|---|---|---|---|---|---|")
    for family in args.models:
        for kind, mode in (("train_img_s", "train"), ("inference_img_s", "inference")):
            pairs = [(float(o[family][kind]), float(t[family][kind])) for o, t in rounds]
            ratios = [a / b for a, b in pairs]
            per_round = ", ".join(f"{x:.2f}" for x in ratios)
            print(f"| {family} | {rounds[0][0][family]['batch']} | {mode} | "
                  f"{statistics.median(a for a, _ in pairs):.2f} | "
                  f"{statistics.median(b for _, b in pairs):.2f} | "
                  f"**{statistics.median(ratios):.2f}x** ({per_round}) |")


if __name__ == "__main__":
    main()
