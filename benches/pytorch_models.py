"""PyTorch's side of `cargo bench -p mixaug-benches --bench models`: the same networks,
shapes and steps, on this machine's CPU. Run by hand (never by CI):

    python benches/pytorch_models.py            # from the repository root

Train step = forward + cross-entropy + backward + SGD (momentum 0.9, dampening 0);
inference = eval-mode forward under no_grad. Prints images per second (median of the
timed iterations) for ResNet-18 CIFAR at batch 64 and ResNet-50 ImageNet at batch 16.
"""

import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "mixaug-models",
                                "tests", "fixtures"))
from make_resnet_fixtures import BasicBlock, Bottleneck, ResNet  # noqa: E402


def timed(fn, iterations):
    fn()  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    torch.manual_seed(0)
    threads = int(os.environ.get("MIXAUG_BENCH_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    cases = [
        ("resnet18_cifar_b64", ResNet(BasicBlock, 64, 10, (2, 2, 2, 2), cifar_stem=True), 64, 32, 10),
        ("resnet50_imagenet_b16", ResNet(Bottleneck, 64, 1000, (3, 4, 6, 3)), 16, 224, 1000),
    ]
    print(f"torch {torch.__version__}, {threads} thread(s)")
    for name, model, batch, side, classes in cases:
        x = torch.rand(batch, 3, side, side)
        y = torch.randint(0, classes, (batch,))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
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

        train = timed(train_step, 5)
        infer = timed(inference, 5)
        print(f"{name:<24} train {batch / train:8.1f} img/s ({train:.3f} s/step)   "
              f"inference {batch / infer:8.1f} img/s ({infer:.3f} s/batch)")


if __name__ == "__main__":
    main()
