# Copied from the project's shared peers (reference for bench/pneumonia.ts; the repo never reads ../shared).
# Peer for the pneumonia CNN: the seed's classify() network (3 convs, 224x224 RGB input, 2 logits),
# Adam lr 0.01, batch 64, trained on random tensors; reports images per second for training steps.
import json, os, sys, time
import torch, torch.nn as nn

torch.set_num_threads(int(os.environ.get("THREADS", "1")))
class Classify(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(nn.Conv2d(3, 12, 3, 1, 1), nn.BatchNorm2d(12), nn.ReLU(), nn.MaxPool2d(2))
        self.c2 = nn.Sequential(nn.Conv2d(12, 20, 3, 1, 1), nn.ReLU())
        self.c3 = nn.Sequential(nn.Conv2d(20, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Linear(32 * 112 * 112, 2)
    def forward(self, x):
        return self.fc(self.c3(self.c2(self.c1(x))).view(-1, 32 * 112 * 112))

m = Classify(); opt = torch.optim.Adam(m.parameters(), lr=0.01); loss = nn.CrossEntropyLoss()
x = torch.randn(64, 3, 224, 224); y = torch.randint(0, 2, (64,))
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 4
for i in range(steps + 1):
    if i == 1: t0 = time.time()
    opt.zero_grad(); l = loss(m(x), y); l.backward(); opt.step()
dt = time.time() - t0
print(json.dumps({"peer": "torch-cpu", "exp": "cnn-train", "threads": torch.get_num_threads(), "images_per_sec": steps * 64 / dt}))
