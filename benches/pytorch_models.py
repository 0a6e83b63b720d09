"""PyTorch's side of `cargo bench -p mixaug-benches --bench models`: the same networks,
shapes and steps, on this machine's CPU or GPU. Run by hand (never by CI):

    python benches/pytorch_models.py            # from the repository root
    python benches/pytorch_models.py --device cuda --batches 128 64 --csv torch.csv
    python benches/pytorch_models.py --models deit_small swin_tiny --vit-batch 8

Train step = forward + cross-entropy + backward + optimiser step: SGD (momentum 0.9,
dampening 0) for the ResNets, AdamW (weight decay 0.05) for DeiT-S and Swin-T; inference =
eval-mode forward under no_grad, both eager. Prints images per second (median of the
timed iterations, each ended by a device synchronisation) for ResNet-18 CIFAR (default
batch 64), ResNet-50 ImageNet (default batch 16) and, with `--models`, timm's
`deit_small_patch16_224` and `swin_tiny_patch4_window7_224` (224x224, 100 classes,
drop-path 0, default batch 8; timm from pip, imported only for them); `--csv` writes
them in the format of the Rust bench's MIXAUG_BENCH_CSV
(`case,batch,train_img_s,inference_img_s`).
"""

import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "mixaug-models",
                                "tests", "fixtures"))
from make_resnet_fixtures import BasicBlock, Bottleneck, ResNet  # noqa: E402


def timed(fn, iterations, sync, warm=1):
    for _ in range(warm):
        fn()
    sync()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


FAMILIES = ["resnet18_cifar", "resnet50_imagenet", "deit_small", "swin_tiny"]


def network(family, args):
    """(model, batch, side, classes) of a family name."""
    b18, b50 = args.batches
    if family == "resnet18_cifar":
        return ResNet(BasicBlock, 64, 10, (2, 2, 2, 2), cifar_stem=True), b18, 32, 10
    if family == "resnet50_imagenet":
        return ResNet(Bottleneck, 64, 1000, (3, 4, 6, 3)), b50, 224, 1000
    import timm  # only for the transformers
    name = {"deit_small": "deit_small_patch16_224",
            "swin_tiny": "swin_tiny_patch4_window7_224"}[family]
    return timm.create_model(name, num_classes=100, drop_path_rate=0.0), args.vit_batch, 224, 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--batches", type=int, nargs=2, default=(64, 16), metavar=("R18", "R50"))
    parser.add_argument("--vit-batch", type=int, default=8, help="DeiT-S / Swin-T batch (8)")
    parser.add_argument("--models", nargs="+", default=["resnet18_cifar", "resnet50_imagenet"],
                        choices=FAMILIES, help="networks (default: the two ResNets)")
    parser.add_argument("--iterations", type=int, default=5, help="timed steps (default 5)")
    parser.add_argument("--csv", help="also write the throughputs to this CSV file")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    if device.type == "cuda":
        sync, warm = (lambda: torch.cuda.synchronize(device)), 3
        where = torch.cuda.get_device_name(device)
    else:
        threads = int(os.environ.get("MIXAUG_BENCH_THREADS", os.cpu_count()))
        torch.set_num_threads(threads)
        sync, warm = (lambda: None), 1
        where = f"{threads} thread(s)"
    cases = [(family, *network(family, args)) for family in args.models]
    print(f"torch {torch.__version__}, {where}")
    rows = ["case,batch,train_img_s,inference_img_s"]
    for family, model, batch, side, classes in cases:
        name = f"{family}_b{batch}"
        model = model.to(device)
        x = torch.rand(batch, 3, side, side, device=device)
        y = torch.randint(0, classes, (batch,), device=device)
        if family.startswith("resnet"):
            optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        else:
            optimiser = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.05)
        loss_fn = nn.CrossEntropyLoss()

        def train_step():
            model.train()
            optimiser.zero_grad()
            loss_fn(model(x), y).backward()
            optimiser.step()

        def inference():
            model.eval()
            with torch.no_grad():
                model(x)

        train = timed(train_step, args.iterations, sync, warm)
        infer = timed(inference, args.iterations, sync, warm)
        print(f"{name:<24} train {batch / train:8.1f} img/s ({train:.4f} s/step)   "
              f"inference {batch / infer:8.1f} img/s ({infer:.4f} s/batch)")
        rows.append(f"{family},{batch},{batch / train:.3f},{batch / infer:.3f}")
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
