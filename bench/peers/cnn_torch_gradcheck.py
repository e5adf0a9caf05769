#!/usr/bin/python3
"""Torch's answer for one training step of the seed's network on the inputs tsrun wrote, for the test
that tsrun's model equals torch's (test/pneumonia-torch-parity.test.ts).

  npx tsx bench/pneumonia-parity-inputs.ts /tmp/parity-in.json
  /usr/bin/python3 bench/peers/cnn_torch_gradcheck.py /tmp/parity-in.json test/fixtures/pneumonia-torch-parity.json

Input JSON: {size, images (N*S*S*3, NHWC), labels, params: {name: flat values in tsrun's layout}}.
Output JSON: the loss, every parameter's gradient and the batch-norm running statistics after the
training-mode step (in tsrun's layout), and the eval-mode logits after it.
"""
import json
import os
import sys
import tempfile

import torch
import torch.nn as nn

# The seed's network, defined once for the reference trainer and this check (same folder, on sys.path).
from cnn_torch_reference import Classify


def short(t):
    """9 significant digits: float32 precision, a third of the fixture's size."""
    return [float("%.9g" % v) for v in t.reshape(-1).tolist()]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        inp = json.load(f)
    s = inp["size"]
    h = s // 2
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in inp["params"].items()}
    m = Classify(s).double()
    # tsrun: conv weights [kh, kw, in, out], fc weight [H*W*C (NHWC flatten), 2]
    conv = lambda w, cin, cout: w.reshape(3, 3, cin, cout).permute(3, 2, 0, 1).contiguous()
    fc = p["fc.weight"].reshape(h, h, 32, 2).permute(3, 2, 0, 1).reshape(2, 32 * h * h)
    with torch.no_grad():
        m.c1[0].weight.copy_(conv(p["conv1.weight"], 3, 12)); m.c1[0].bias.copy_(p["conv1.bias"])
        m.c1[1].weight.copy_(p["bn1.weight"]); m.c1[1].bias.copy_(p["bn1.bias"])
        m.c2[0].weight.copy_(conv(p["conv2.weight"], 12, 20)); m.c2[0].bias.copy_(p["conv2.bias"])
        m.c3[0].weight.copy_(conv(p["conv3.weight"], 20, 32)); m.c3[0].bias.copy_(p["conv3.bias"])
        m.c3[1].weight.copy_(p["bn2.weight"]); m.c3[1].bias.copy_(p["bn2.bias"])
        m.fc.weight.copy_(fc); m.fc.bias.copy_(p["fc.bias"])
    x = torch.tensor(inp["images"], dtype=torch.float64).reshape(-1, s, s, 3).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(inp["labels"], dtype=torch.long)
    m.train()
    loss = nn.CrossEntropyLoss()(m(x), y)
    loss.backward()
    back_conv = lambda g: g.permute(2, 3, 1, 0).reshape(-1)
    grads = {
        "conv1.weight": back_conv(m.c1[0].weight.grad), "conv1.bias": m.c1[0].bias.grad,
        "bn1.weight": m.c1[1].weight.grad, "bn1.bias": m.c1[1].bias.grad,
        "conv2.weight": back_conv(m.c2[0].weight.grad), "conv2.bias": m.c2[0].bias.grad,
        "conv3.weight": back_conv(m.c3[0].weight.grad), "conv3.bias": m.c3[0].bias.grad,
        "bn2.weight": m.c3[1].weight.grad, "bn2.bias": m.c3[1].bias.grad,
        "fc.weight": m.fc.weight.grad.reshape(2, 32, h, h).permute(2, 3, 1, 0).reshape(-1),
        "fc.bias": m.fc.bias.grad,
    }
    m.eval()
    with torch.no_grad():
        logits = m(x)
    out = {
        "source": "bench/peers/cnn_torch_gradcheck.py, torch %s, float64" % torch.__version__,
        "size": s,
        "loss": loss.item(),
        "grads": {k: short(v) for k, v in grads.items()},
        "running": {
            "mean1": short(m.c1[1].running_mean), "var1": short(m.c1[1].running_var),
            "mean2": short(m.c3[1].running_mean), "var2": short(m.c3[1].running_var),
        },
        "eval_logits": short(logits),
    }
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dst)), prefix=".parity-")
    with os.fdopen(fd, "w") as f:
        json.dump(out, f)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main()
