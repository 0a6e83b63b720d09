"""timm's side of `cargo bench -p mixaug-benches --bench mix_share`: timm's `Mixup` in its
mixup and cutmix modes (per batch, as the references train) on the same shapes, on this
machine's CPU or GPU. Run by hand (never by CI):

    python benches/timm_mixup.py --device cuda --csv timm.csv

Each call mixes the batch and builds the soft targets (timm's `Mixup.__call__`: λ drawn on
the host, the images mixed in place with the flipped batch, one-hot targets on the device).
Prints the median time per call, each ended by a device synchronisation; `--csv` writes
`method,shape,mix_ms` in the naming of the Rust bench (`mixup`, `cutmix`).
"""

import argparse

import torch
from timm.data import Mixup

from pytorch_models import timed

SHAPES = [(128, 3, 32, 32, 10), (64, 3, 224, 224, 1000)]
MODES = {
    "mixup": dict(mixup_alpha=1.0, cutmix_alpha=0.0),
    "cutmix": dict(mixup_alpha=0.0, cutmix_alpha=1.0),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--csv", help="also write the times to this CSV file")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        def sync():
            torch.cuda.synchronize(device)
    else:
        def sync():
            pass
    torch.manual_seed(0)
    import timm
    print(f"torch {torch.__version__}, timm {timm.__version__}, {device}")
    rows = ["method,shape,mix_ms"]
    for n, c, h, w, classes in SHAPES:
        x = torch.rand(n, c, h, w, device=device)
        y = torch.arange(n, device=device) % classes
        large = h * w > 64 * 64
        warm, reps = (3, 9) if large else (5, 21)
        for name, alphas in MODES.items():
            mixup = Mixup(prob=1.0, mode="batch", label_smoothing=0.0, num_classes=classes, **alphas)
            ms = timed(lambda: mixup(x, y), reps, sync, warm) * 1e3
            shape = f"{n}x{c}x{h}x{w}"
            print(f"{name:<8} {shape:<16} {ms:10.3f} ms")
            rows.append(f"{name},{shape},{ms:.6f}")
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
