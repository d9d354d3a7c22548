"""PyTorch reference for `npm run bench:mlp` (the kit never needs it).

Same shapes and training as bench/mlp.ts: 50,000 x 512 standard normal inputs,
y = sin(x0) + x1 x2 + 0.1 noise (standardised), layers 256-64-1 ReLU, He-uniform init,
Adam (lr 1e-3, eps 1e-7), MSE, batch 512, shuffled. Run with Debian's python3-torch:

    python3 bench/mlp_torch.py            # env BENCH_EPOCHS (2), BENCH_ROWS, BENCH_COLS, BENCH_THREADS (1)

Last line: {"backend", "s_per_epoch", "train_mse", "epochs"} (train_mse: mean training loss of
the last epoch on the standardised target, as the kit reports it).
"""
import json
import os
import time

import torch

rows = int(os.environ.get("BENCH_ROWS", 50000))
cols = int(os.environ.get("BENCH_COLS", 512))
epochs = int(os.environ.get("BENCH_EPOCHS", 2))
threads = int(os.environ.get("BENCH_THREADS", 1))
torch.set_num_threads(threads)
torch.manual_seed(1)

X = torch.randn(rows, cols)
y = torch.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * torch.randn(rows)
y = (y - y.mean()) / y.std(unbiased=False)
# The kit standardises inputs per column; standard normal columns are already close.
X = (X - X.mean(0)) / X.std(0, unbiased=False)

net = torch.nn.Sequential(
    torch.nn.Linear(cols, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)
)
# The kit's init: He-uniform hidden kernels, Glorot-uniform output kernel, zero biases (PyTorch's
# default Linear init is smaller and learns this target faster, which would skew train_mse).
with torch.no_grad():
    for i, layer in enumerate(m for m in net if isinstance(m, torch.nn.Linear)):
        if i < 2:
            torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        else:
            torch.nn.init.xavier_uniform_(layer.weight)
        layer.bias.zero_()
opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
batch = 512
print(f"torch {torch.__version__} mlp bench: {rows} x {cols}, layers 256-64-1, batch {batch}, {epochs} epoch(s), {threads} thread(s)")
times = []
last = float("nan")
for epoch in range(epochs):
    start = time.perf_counter()
    cpu = time.process_time()
    order = torch.randperm(rows)
    total = 0.0
    for s in range(0, rows, batch):
        idx = order[s : s + batch]
        xb, yb = X[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(xb).squeeze(1) - yb) ** 2)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    last = total / rows
    # CPU seconds of this process: on a shared machine, wall / CPU shows the contention.
    print(f"  epoch {epoch + 1}: {times[-1]:.2f} s wall, {cpu:.2f} s cpu (train mse {last:.4f})")
print(json.dumps({"backend": f"pytorch {torch.__version__} {threads} thread(s)", "s_per_epoch": round(sum(times) / len(times), 3), "train_mse": round(last, 4), "epochs": epochs}))
