#!/usr/bin/python3
"""Torch reference for the pneumonia experiment: the seed's classify() network trained with the seed's
transforms on any image folder DIR/{train,test,val}/{NORMAL,PNEUMONIA}, on the CPU.

  /usr/bin/python3 bench/peers/cnn_torch_reference.py --input DIR --image-size 64 --epochs 5 \
      --batch 16 --lr 0.001 --seed 0            # one JSON line (accuracy, losses, seconds)
  /usr/bin/python3 bench/peers/cnn_torch_reference.py --fixture test/fixtures/pneumonia-torch.json \
      --input DIR --set-name radiograph --seeds 0,1,2 ...   # adds the runs to a fixture file

Needs Debian's python3-torch and python3-torchvision (torch 1.13). Transforms as the seed:
train = Resize((R,R)) with R = round(S*256/224), RandomRotation(20), CenterCrop(S), ToTensor,
Normalize(ImageNet); test = Resize((S,S)), ToTensor, Normalize. Images are converted to RGB.
Adam, CrossEntropyLoss, shuffled batches; loss per epoch = sum of batch losses / batches (the seed's).
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torchvision.transforms as T
from PIL import Image

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLASSES = ["NORMAL", "PNEUMONIA"]
EXTENSIONS = (".jpeg", ".jpg", ".png")


class Classify(nn.Module):
    """The seed's network, with the flatten size following the image side S."""

    def __init__(self, size):
        super().__init__()
        self.flat = 32 * (size // 2) * (size // 2)
        self.c1 = nn.Sequential(nn.Conv2d(3, 12, 3, 1, 1), nn.BatchNorm2d(12), nn.ReLU(), nn.MaxPool2d(2))
        self.c2 = nn.Sequential(nn.Conv2d(12, 20, 3, 1, 1), nn.ReLU())
        self.c3 = nn.Sequential(nn.Conv2d(20, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Linear(self.flat, 2)

    def forward(self, x):
        return self.fc(self.c3(self.c2(self.c1(x))).view(-1, self.flat))


class Folder(torch.utils.data.Dataset):
    def __init__(self, root, transform):
        self.items = []
        for label, cls in enumerate(CLASSES):
            d = os.path.join(root, cls)
            if not os.path.isdir(d):
                sys.exit(f"cnn_torch_reference: {root} has no class folder '{cls}'")
            for name in sorted(os.listdir(d)):
                if not name.startswith(".") and name.lower().endswith(EXTENSIONS):
                    self.items.append((os.path.join(d, name), label))
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as im:
            return self.transform(im.convert("RGB")), label


def transforms(size, eval_crop):
    r = round(size * 256 / 224)
    norm = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train = T.Compose([T.Resize((r, r)), T.RandomRotation(20), T.CenterCrop(size), T.ToTensor(), norm])
    if eval_crop:  # torchvision's usual evaluation: the training geometry without the rotation
        test = T.Compose([T.Resize((r, r)), T.CenterCrop(size), T.ToTensor(), norm])
    else:  # the seed's: the whole image squeezed to S, a larger field of view than training saw
        test = T.Compose([T.Resize((size, size)), T.ToTensor(), norm])
    return train, test


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total if total else 0.0


def train_once(a, seed):
    torch.manual_seed(seed)
    random.seed(seed)
    train_tf, test_tf = transforms(a.image_size, a.eval_crop)
    tr = Folder(os.path.join(a.input, "train"), train_tf)
    te = Folder(os.path.join(a.input, "test"), test_tf)
    va = Folder(os.path.join(a.input, "val"), test_tf)
    g = torch.Generator().manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(tr, batch_size=a.batch, shuffle=True, generator=g)
    test_loader = torch.utils.data.DataLoader(te, batch_size=64)
    val_loader = torch.utils.data.DataLoader(va, batch_size=64)
    model = Classify(a.image_size)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    losses, vals = [], []
    t0 = time.time()
    for _ in range(a.epochs):
        s, batches = 0.0, 0
        for x, y in train_loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            s += loss.item()
            batches += 1
        losses.append(s / max(1, batches))
        vals.append(accuracy(model, val_loader))
    seconds = time.time() - t0
    return {
        "peer": "torch-cpu",
        "exp": "cnn-reference",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seed": seed,
        "image_size": a.image_size,
        "epochs": a.epochs,
        "batch": a.batch,
        "lr": a.lr,
        "eval_crop": a.eval_crop,
        "losses": losses,
        "val_accuracies": vals,
        "accuracy": accuracy(model, test_loader),
        "images_tested": len(te),
        "seconds": seconds,
    }


def write_atomic(path, obj):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".cnn-ref-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="image folder with train/test/val")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seeds", default="0", help="comma-separated seeds, one run each")
    p.add_argument("--eval-crop", action="store_true",
                   help="evaluate on Resize(S*256/224) + CenterCrop(S), the training geometry (not the seed's)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "1")))
    p.add_argument("--fixture", help="add the runs to this JSON fixture under --set-name")
    p.add_argument("--set-name", help="key of the data set in the fixture (with --fixture)")
    p.add_argument("--set-args", default="", help="how the set was generated (recorded in the fixture)")
    a = p.parse_args()
    if a.image_size < 4 or a.image_size % 2:
        sys.exit(f"cnn_torch_reference: --image-size must be an even integer >= 4, got {a.image_size}")
    if a.fixture and not a.set_name:
        sys.exit("cnn_torch_reference: --fixture needs --set-name")
    torch.set_num_threads(a.threads)
    runs = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        r = train_once(a, seed)
        print(json.dumps(r), flush=True)
        runs.append(r)
    if a.fixture:
        fx = {}
        if os.path.exists(a.fixture):
            with open(a.fixture) as f:
                fx = json.load(f)
        fx["source"] = "bench/peers/cnn_torch_reference.py (torch %s, CPU)" % torch.__version__
        fx.setdefault("sets", {})[a.set_name] = {
            "generated_by": a.set_args,
            "image_size": a.image_size,
            "epochs": a.epochs,
            "batch": a.batch,
            "lr": a.lr,
            "eval_crop": a.eval_crop,
            "accuracies": {str(r["seed"]): r["accuracy"] for r in runs},
            "losses": {str(r["seed"]): r["losses"] for r in runs},
        }
        write_atomic(a.fixture, fx)


if __name__ == "__main__":
    main()
