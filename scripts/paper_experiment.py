#!/usr/bin/env python3
"""Runs the "Fix your classifier" experiment (Hoffer et al., ICLR 2018) on Fashion-MNIST.

Trains the same backbone with a learned head, a fixed orthonormal head and a fixed Hadamard head
(plus the variants: Hadamard with the all-ones row, alpha fixed at 0.1 / 1 / 10 against learned
alpha, the narrow N = 16 backbone, and the C > N refusal) by calling the `fixserve train` binary
into a scratch model repository. Reads every run's history.json, manifest.json and safetensors
header, and writes docs/RESULTS.md, one SVG of learning curves per table and the raw per-run JSON
under docs/results/.

Runs already recorded in the scratch repository with the same arguments are reused, so the command
can be re-run after an interruption (or with --report-only to only rewrite the report).

    scripts/paper_experiment.py                      # full budget (see --help)
    scripts/paper_experiment.py --quick              # minutes: a smoke test of the whole pipeline
    scripts/paper_experiment.py --ship models        # also copy the seed-1 main runs into models/

Python 3 standard library only.
"""

import argparse
import datetime
import json
import math
import os
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GROUPS = ("main", "hadamard-rows", "alpha", "narrow", "refusal", "pairs")
HEAD_TITLES = {"learned": "learned", "orthonormal": "fixed orthonormal", "hadamard": "fixed Hadamard"}
SHIPPED_NAMES = {"hadamard": "fashion-mnist", "orthonormal": "fashion-mnist-orthonormal", "learned": "fashion-mnist-learned"}
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
TARGET_GAP_POINTS = 0.5
TARGET_LEARNED_ACCURACY = 0.92
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]


@dataclass
class Budget:
    """How long each run of a group trains."""
    epochs: int
    training_limit: int | None
    seeds: list[int]

    def describe(self) -> str:
        images = "the full training set (60,000 images)" if self.training_limit is None \
            else f"{self.training_limit:,} training images (--training-limit {self.training_limit})"
        seeds = ", ".join(map(str, self.seeds))
        return f"{images}, 10% of them held out for validation, {self.epochs} epoch{'s' if self.epochs != 1 else ''}, seed{'s' if len(self.seeds) > 1 else ''} {seeds}"


@dataclass
class Config:
    """One configuration of one table; trained once per seed."""
    group: str
    slug: str
    label: str
    head: str
    backbone: str = "cnn-small"
    extra: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One finished (or failed) `fixserve train` call and what it produced."""
    config: Config
    seed: int
    name: str
    command: list[str]
    ok: bool
    error: str = ""
    folder: Path | None = None
    history: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    tensors: dict = field(default_factory=dict)
    wall_seconds: float = 0.0


def configurations() -> list[Config]:
    """Every configuration, same backbone and hyper-parameters within a table."""
    configs = [Config("main", head, HEAD_TITLES[head], head) for head in ("learned", "orthonormal", "hadamard")]
    configs.append(Config("main", "hadamard-keep-ones", "fixed Hadamard, all-ones row kept", "hadamard",
                          extra=["--keep-all-ones-row"]))
    configs += [
        Config("hadamard-rows", "skip-ones", "Hadamard, all-ones row skipped (default)", "hadamard"),
        Config("hadamard-rows", "keep-ones", "Hadamard, all-ones row kept", "hadamard", extra=["--keep-all-ones-row"]),
    ]
    # α learned is the main table's run of the same head and seed (see Report.alpha_runs).
    for head in ("orthonormal", "hadamard"):
        for alpha in ("0.1", "1", "10"):
            configs.append(Config("alpha", f"{head}-fixed-{alpha}", f"{HEAD_TITLES[head]}, α fixed at {alpha}", head,
                                  extra=["--alpha", alpha, "--fixed-alpha"]))
    configs += [Config("narrow", head, f"{HEAD_TITLES[head]}, N = 16", head, backbone="cnn-narrow")
                for head in ("learned", "orthonormal", "hadamard")]
    # Many classes: Fashion-MNIST pairs, C = 100. N = 128 is just above C; N = 64 is below it,
    # where a fixed head needs a projection to N' = 128 ≥ C (the refusal is recorded too).
    pairs = ["--dataset", "fashion-mnist-pairs"]
    configs += [Config("pairs", f"{head}-n128", f"{HEAD_TITLES[head]}, N = 128", head, extra=pairs)
                for head in ("learned", "orthonormal", "hadamard")]
    configs.append(Config("pairs", "learned-n64", "learned, N = 64", "learned", extra=pairs + ["--features", "64"]))
    configs += [Config("pairs", f"{head}-n64-p128", f"{HEAD_TITLES[head]}, N = 64 + projection to 128", head,
                       extra=pairs + ["--features", "64", "--projection", "128"]) for head in ("orthonormal", "hadamard")]
    return configs


# ---------------------------------------------------------------------------------------------
# Running


class Runner:
    """Calls `fixserve train` into the scratch repository and remembers what it ran."""

    def __init__(self, fixserve: str, scratch: Path, threads: int | None, report_only: bool):
        self.fixserve = fixserve
        self.scratch = scratch
        self.threads = threads
        self.report_only = report_only
        self.index_path = scratch / "index.json"
        self.index = json.loads(self.index_path.read_text()) if self.index_path.exists() else {}
        self.lock = threading.Lock()  # --jobs runs several trainings from threads of this process

    def arguments(self, config: Config, seed: int, budget: Budget, name: str) -> list[str]:
        args = [self.fixserve, "train", "--model", name, "--models", str(self.scratch / "models"),
                "--backbone", config.backbone, "--head", config.head, *config.extra,
                "--epochs", str(budget.epochs), "--seed", str(seed)]
        if budget.training_limit is not None:
            args += ["--training-limit", str(budget.training_limit)]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        return args

    def run(self, config: Config, seed: int, budget: Budget) -> Run:
        name = f"{config.group}-{config.slug}-s{seed}"
        args = self.arguments(config, seed, budget, name)
        known = self.index.get(name)
        # The binary's path may differ (a copy keeps a long experiment apart from rebuilds).
        if known and known["command"][1:] == args[1:] and (known["ok"] is False or Path(known["folder"]).exists()):
            print(f"reusing {name}", flush=True)
        elif self.report_only:
            return Run(config, seed, name, args, ok=False, error="not run (report only)")
        else:
            known = self.train(name, args)
            self.record(name, known)
        run = Run(config, seed, name, args, ok=known["ok"], error=known.get("error", ""),
                  wall_seconds=known.get("wall_seconds", 0.0))
        if run.ok:
            run.folder = Path(known["folder"])
            run.history = json.loads((run.folder / "history.json").read_text())
            run.manifest = json.loads((run.folder / "manifest.json").read_text())
            run.tensors = safetensors_header(run.folder / "model.safetensors")
        return run

    def record(self, name: str, entry: dict) -> None:
        with self.lock:
            self._record(name, entry)

    def _record(self, name: str, entry: dict) -> None:
        # Re-read first: two invocations (e.g. different --groups) may share the scratch directory.
        self.index = json.loads(self.index_path.read_text()) if self.index_path.exists() else {}
        self.index[name] = entry
        self.scratch.mkdir(parents=True, exist_ok=True)
        temporary = self.index_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.index, indent=1))
        os.replace(temporary, self.index_path)

    def train(self, name: str, args: list[str]) -> dict:
        logs = self.scratch / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        print(f"$ {shlex.join(args)}", flush=True)
        started = time.monotonic()
        with open(logs / f"{name}.out", "w") as out, open(logs / f"{name}.err", "w") as err:
            code = subprocess.call(args, stdout=out, stderr=err)
        wall = time.monotonic() - started
        output = (logs / f"{name}.out").read_text()
        progress = (logs / f"{name}.err").read_text()
        for line in (progress + output).splitlines():
            line = line.split("\r")[-1].strip()
            if line.startswith("epoch") or line.startswith("stored"):
                print(f"    {name}:", line, flush=True)
        if code != 0:
            error = progress.strip().splitlines()
            message = error[-1] if error else f"exit status {code}"
            print(f"    {name} failed: {message}", flush=True)
            return {"command": args, "ok": False, "error": message, "wall_seconds": wall}
        stored = [line for line in output.splitlines() if " stored " in f" {line}"]
        folder = stored[-1].split(" in ", 1)[1].rsplit(" after ", 1)[0]
        return {"command": args, "ok": True, "folder": folder, "wall_seconds": wall}


def safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file: tensor name -> {dtype, shape, data_offsets}."""
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
    header.pop("__metadata__", None)
    return header


def refused_fixed_heads(fixserve: str, threads: int | None, args_for_head) -> dict:
    """Runs `fixserve train` once per fixed head with `args_for_head(head)` and records how it ended."""
    results = {}
    for head in ("orthonormal", "hadamard"):
        args = [fixserve, "train", *args_for_head(head), "--head", head, "--epochs", "1"]
        if threads is not None:
            args += ["--threads", str(threads)]
        print(f"$ {shlex.join(args)}", flush=True)
        done = subprocess.run(args, capture_output=True, text=True)
        lines = (done.stderr.strip() or done.stdout.strip()).splitlines()
        results[head] = {"command": args, "exit_status": done.returncode, "message": lines[-1] if lines else ""}
        print(f"    exit {done.returncode}: {results[head]['message']}", flush=True)
    return results


def refusal(fixserve: str, scratch: Path, threads: int | None) -> dict:
    """Asks for fixed heads on a 20-class folder data set with the N = 16 backbone (C > N)."""
    root = scratch / "data" / "twenty-classes"
    for index in range(20):
        folder = root / f"class-{index:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for sample in range(2):
            write_gray_png(folder / f"{sample}.png", 28, 28, lambda x, y: (x * 9 + y * index + sample * 40) % 256)
    return refused_fixed_heads(fixserve, threads, lambda head: [
        "--model", f"refusal-{head}", "--models", str(scratch / "models"), "--dataset", "folder:twenty-classes",
        "--data-root", str(scratch / "data"), "--backbone", "cnn-narrow", "--validation-fraction", "0"])


def pairs_refusal(fixserve: str, scratch: Path, threads: int | None) -> dict:
    """Asks for fixed heads over N = 64 features on the 100 pair classes (C > N)."""
    return refused_fixed_heads(fixserve, threads, lambda head: [
        "--model", f"refusal-pairs-{head}", "--models", str(scratch / "models"), "--dataset", "fashion-mnist-pairs",
        "--backbone", "cnn-small", "--features", "64", "--training-limit", "1000"])


def write_gray_png(path: Path, width: int, height: int, pixel) -> None:
    """A minimal 8-bit grayscale PNG (no filtering), enough for a synthetic folder data set."""
    rows = b"".join(b"\x00" + bytes(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# Reading a run


def parameter_counts(run: Run) -> dict:
    """Trainable parameters (buffers excluded), the head's stored bytes, and a learned head's."""
    def count(prefix: str) -> int:
        return sum(math.prod(info["shape"]) for name, info in run.tensors.items()
                   if name.startswith(prefix) and not name.endswith(BUFFER_SUFFIXES))
    head = run.manifest["head"]
    n, c = head["features"], head["classes"]
    stored = sum(info["data_offsets"][1] - info["data_offsets"][0] for name, info in run.tensors.items()
                 if name.startswith("head."))
    backbone, head_parameters = count("backbone."), count("head.")
    # A projection is the backbone's last linear layer when a --projection was asked for.
    projection = 0
    if "--projection" in run.command:
        layers = [name for name, info in run.tensors.items()
                  if name.startswith("backbone.") and name.endswith(".weight") and len(info["shape"]) == 2]
        last = max(layers, key=lambda name: int(name.split(".")[1]))
        projection = count(last.rsplit(".", 1)[0] + ".")
    return {"total": backbone + head_parameters, "backbone": backbone, "head": head_parameters, "projection": projection,
            "head_bytes": stored, "learned_head_bytes": (n * c + c) * 4, "features": n, "classes": c}


def final(run: Run, key: str) -> float:
    return run.history[-1][key]


def train_seconds(run: Run) -> float:
    return sum(epoch["seconds"] for epoch in run.history)


def feature_layer(run: Run) -> tuple[list[float], list[float]] | None:
    """Per-unit weight sums and biases of the backbone's last linear layer (the one feeding the head)."""
    linear = [name for name, info in run.tensors.items()
              if name.startswith("backbone.") and name.endswith(".weight") and len(info["shape"]) == 2]
    if not linear:
        return None
    name = max(linear, key=lambda n: int(n.split(".")[1]))
    with open(run.folder / "model.safetensors", "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        data = file.read()[length:]

    def floats(key: str) -> list[float]:
        start, end = run.tensors[key]["data_offsets"]
        return list(struct.unpack(f"<{(end - start) // 4}f", data[start:end]))

    weights, biases = floats(name), floats(name.replace(".weight", ".bias"))
    width = run.tensors[name]["shape"][1]
    return [sum(weights[unit * width:(unit + 1) * width]) for unit in range(len(biases))], biases


def interval(run: Run) -> tuple[float, float]:
    """When a run trained, in seconds since the epoch: its manifest's creation time minus its training time."""
    created = run.manifest.get("provenance", {}).get("created", "")
    end = datetime.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() if created else 0.0
    return end - train_seconds(run), end


def overlapping(run: Run, runs: list[Run]) -> int:
    """The most other runs of the experiment that trained at one moment during this run (sharing the CPU)."""
    start, end = interval(run)
    others = [interval(other) for other in runs if other.ok and other is not run]
    moments = [start] + [s for s, _ in others if start < s < end]
    return max(sum(1 for s, e in others if s <= moment < e) for moment in moments)


def summary(runs: list[Run]) -> dict:
    """Mean and standard deviation over the seeds of one configuration."""
    ok = [run for run in runs if run.ok]

    def stats(values: list[float]) -> tuple[float, float | None]:
        return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)

    if not ok:
        return {"ok": False, "errors": sorted({run.error for run in runs})}
    return {
        "ok": True, "seeds": [run.seed for run in ok],
        "test": stats([final(run, "test_accuracy") for run in ok]),
        "validation": stats([final(run, "validation_accuracy") for run in ok]),
        "train_loss": stats([final(run, "train_loss") for run in ok]),
        "train_accuracy": stats([final(run, "train_accuracy") for run in ok]),
        "seconds": stats([train_seconds(run) for run in ok]),
        "alpha": stats([final(run, "alpha") for run in ok]) if ok[0].history[-1].get("alpha") is not None else None,
        "parameters": parameter_counts(ok[0]),
    }


# ---------------------------------------------------------------------------------------------
# Report


def percent(stat, digits: int = 2) -> str:
    mean, std = stat
    return f"{mean * 100:.{digits}f}" + (f" ± {std * 100:.{digits}f}" if std is not None else "")


def plain(stat, digits: int = 4) -> str:
    mean, std = stat
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def minutes(stat) -> str:
    mean, std = stat
    return f"{mean / 60:.1f} min" + (f" ± {std / 60:.1f}" if std is not None else "")


def svg_panel(out: list[str], x0: float, top: float, width: float, height: float, title: str,
              curves: list[tuple[str, list[float]]], first_tick: int, x_label: str, floor: float | None = None) -> None:
    """One panel of polylines (one per curve, point i at tick first_tick + i) with its grid and axis labels."""
    values = [v for _, points in curves for v in points] + ([floor] if floor is not None else [])
    if not values:
        return
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.5
    low, high = low - pad, high + pad
    ticks = max(len(points) for _, points in curves)
    def sx(i): return x0 + (i / max(ticks - 1, 1)) * width
    def sy(v): return top + height - (v - low) / (high - low) * height
    out.append(f'<rect x="{x0}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#888"/>')
    if title:
        out.append(f'<text x="{x0 + width / 2}" y="{top - 8}" text-anchor="middle">{title}</text>')
    for tick in range(5):
        v = low + (high - low) * tick / 4
        out.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    for i in range(ticks):
        out.append(f'<text x="{sx(i):.1f}" y="{top + height + 16}" text-anchor="middle">{first_tick + i}</text>')
    out.append(f'<text x="{x0 + width / 2}" y="{top + height + 34}" text-anchor="middle">{x_label}</text>')
    for index, (_, points) in enumerate(curves):
        color = COLORS[index % len(COLORS)]
        coordinates = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(points))
        out.append(f'<polyline points="{coordinates}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{color}"/>' for i, v in enumerate(points)]


def svg_document(width: int, height: int, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']


def svg_legend(out: list[str], labels: list[str], left: float, top: float, per_row: int, spacing: float) -> None:
    for index, label in enumerate(labels):
        x, y = left + (index % per_row) * spacing, top + (index // per_row) * 18
        out.append(f'<rect x="{x}" y="{y - 9}" width="14" height="4" fill="{COLORS[index % len(COLORS)]}"/>')
        out.append(f'<text x="{x + 20}" y="{y - 3}">{escape(label)}</text>')


def svg_curves(title: str, series: list[tuple[str, list[dict]]], path: Path) -> None:
    """Two panels, train loss and test accuracy per epoch, one polyline per configuration (mean over seeds)."""
    width, height, panel_w, panel_h, left, top = 900, 380, 360, 240, 70, 50
    out = svg_document(width, height, title)
    for panel, (key, name, scale) in enumerate([("train_loss", "train loss", 1), ("test_accuracy", "test accuracy (%)", 100)]):
        curves = [(label, [sum(h[e][key] for h in histories) / len(histories) * scale
                           for e in range(min(len(h) for h in histories))]) for label, histories in series]
        svg_panel(out, left + panel * (panel_w + 90), top, panel_w, panel_h, name, curves, 1, "epoch")
    svg_legend(out, [label for label, _ in series], left, top + panel_h + 58, 3, 270)
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def svg_alpha(title: str, series: list[tuple[str, list[list[dict]], float]], path: Path) -> None:
    """One panel: α before training and after each epoch (mean over seeds), one polyline per head."""
    width, height, panel_w, panel_h, left, top = 560, 360, 420, 240, 70, 50
    curves = [(label, [initial] + [sum(h[e]["alpha"] for h in histories) / len(histories)
                                   for e in range(min(len(h) for h in histories))]) for label, histories, initial in series]
    out = svg_document(width, height, title)
    svg_panel(out, left, top, panel_w, panel_h, "", curves, 0, "epoch (0: initial α)", floor=0.0)
    out.append(f'<text x="18" y="{top + panel_h / 2}" text-anchor="middle" transform="rotate(-90 18 {top + panel_h / 2})">α</text>')
    svg_legend(out, [label for label, _, _ in series], left, top + panel_h + 55, 3, 200)
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def failed_row(config: Config, s: dict, columns: int) -> str:
    return f"| {config.label} | failed: {'; '.join(s['errors'])} |" + " |" * (columns - 2)


def display(command: list[str]) -> str:
    """A command as it would be typed in the repository's root: `fixserve`, relative paths."""
    parts = ["fixserve"] + [part.replace(f"{REPO}/", "") for part in command[1:]]
    return shlex.join(parts)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Report:
    """Builds docs/RESULTS.md from the runs, grouped by table."""

    def __init__(self, runs: list[Run], budgets: dict[str, Budget], refusals: dict, command: str, out: Path,
                 pair_refusals: dict | None = None):
        self.runs, self.budgets, self.refusals, self.command, self.out = runs, budgets, refusals, command, out
        self.pair_refusals = pair_refusals or {}
        self.lines: list[str] = []

    def group(self, name: str) -> list[tuple[Config, dict, list[Run]]]:
        seen: dict[str, list[Run]] = {}
        for run in self.runs:
            if run.config.group == name:
                seen.setdefault(run.config.slug, []).append(run)
        return [(runs[0].config, summary(runs), runs) for runs in seen.values()]

    def curves(self, name: str, title: str) -> None:
        series = [(config.label, [run.history for run in runs if run.ok]) for config, s, runs in self.group(name) if s["ok"]]
        if series:
            svg_curves(title, series, self.out / "results" / f"{name}.svg")
            self.lines.append(f"\n![{title}](results/{name}.svg)")
        self.lines.append("")

    def write(self) -> None:
        add = self.lines.append
        add("# Results: fixed classifiers on Fashion-MNIST\n")
        add("This reproduces the main experiment of *Fix your classifier: the marginal value of training the last "
            "weight layer* (Hoffer et al., ICLR 2018) with `fixserve train`: the same backbone trained with a learned "
            "last layer, a fixed random orthonormal one and a fixed truncated Hadamard one (x̂ = x/‖x‖, "
            "y = α·Qᵀx̂ + b with only α and b trained). Generated by `scripts/paper_experiment.py`; every number "
            "below comes from the runs listed at the end.\n")
        add("Common settings: SGD with Nesterov momentum 0.9, learning rate 0.1 with a cosine schedule, weight decay "
            "5·10⁻⁴, batch 128, no augmentation, inputs normalised by the training set's mean and std. α starts at "
            "10 (orthonormal) or 1 (Hadamard) and is learned unless stated. Validation accuracy is measured on the "
            "held-out part of the training set, test accuracy on the 10,000 test images. Training time is the sum of "
            "the epochs' wall-clock times, each including that epoch's validation and test evaluation (about 3 s), "
            "on a shared 2-core machine where other builds were running, and with other runs of this experiment "
            "running at the same time (counted in the main table): timings are noisy and longer than on an idle "
            "machine. With several seeds, a value is the mean ± the sample standard deviation over the seeds.\n")
        if isinstance(self.command, list) and len(self.command) > 1:
            add("Commands (the runs of each; a later invocation reuses what an earlier one recorded):\n")
            add("```\n" + "\n".join(self.command) + "\n```\n")
        else:
            add(f"Command: `{self.command[0] if isinstance(self.command, list) else self.command}`\n")
        for group, table in [("main", self.main_table), ("hadamard-rows", self.rows_table),
                             ("alpha", self.alpha_table), ("narrow", self.narrow_table), ("pairs", self.pairs_table)]:
            if self.group(group) or (group == "narrow" and self.refusals):
                table()
        # A hand-written section (the shipped model's own run) is kept in the report if present.
        shipped = self.out / "results" / "shipped.md"
        if shipped.exists():
            self.lines.append(shipped.read_text())
        self.claims()
        self.reading()
        self.commands()
        (self.out / "RESULTS.md").write_text("\n".join(self.lines) + "\n")

    def main_table(self) -> None:
        add = self.lines.append
        add("## Learned against fixed heads (cnn-small, N = 128, C = 10)\n")
        add(f"Budget, the same for every head: {self.budgets['main'].describe()}.\n")
        add("| head | test accuracy % | validation accuracy % | final train loss | final train accuracy % | "
            "parameters (total) | head parameters | head share | head stored bytes (learned head of the same shape) | "
            "training time | most other runs at once |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for config, s, runs in self.group("main"):
            if not s["ok"]:
                add(failed_row(config, s, 11))
                continue
            p = s["parameters"]
            add(f"| {config.label} | {percent(s['test'])} | {percent(s['validation'])} | {plain(s['train_loss'])} | "
                f"{percent(s['train_accuracy'])} | {p['total']:,} | {p['head']:,} | {p['head'] / p['total'] * 100:.3f}% | "
                f"{p['head_bytes']:,} ({p['learned_head_bytes']:,}) | {minutes(s['seconds'])} | "
                f"{', '.join(str(overlapping(run, self.runs)) for run in runs if run.ok)} |")
        self.curves("main", "cnn-small on Fashion-MNIST: learned vs fixed heads")

    def rows_table(self) -> None:
        add = self.lines.append
        add("## Hadamard head: with or without the all-ones row\n")
        add(f"Reduced budget: {self.budgets['hadamard-rows'].describe()}. The variant is chosen by **validation** "
            "accuracy; test accuracy is shown but not used to choose.\n")
        add("| variant | validation accuracy % | test accuracy % | final train loss | final α |")
        add("| --- | ---: | ---: | ---: | ---: |")
        for config, s, _ in self.group("hadamard-rows"):
            if not s["ok"]:
                add(failed_row(config, s, 5))
            else:
                add(f"| {config.label} | {percent(s['validation'])} | {percent(s['test'])} | {plain(s['train_loss'])} | "
                    f"{plain(s['alpha'], 3) if s['alpha'] else '-'} |")
        self.curves("hadamard-rows", "Hadamard head: all-ones row skipped vs kept")

    def alpha_runs(self) -> list[tuple[Config, dict, list[Run]]]:
        """The α table: for each fixed head, α learned (the main table's runs of the α seeds) and the fixed values."""
        seeds = set(self.budgets["alpha"].seeds)
        rows = []
        for head in ("orthonormal", "hadamard"):
            for config, _, runs in self.group("main"):
                if config.slug == head:
                    chosen = [run for run in runs if run.seed in seeds]
                    label = f"{HEAD_TITLES[head]}, α learned (from {10 if head == 'orthonormal' else 1})"
                    rows.append((Config("alpha", f"{head}-learned", label, head), summary(chosen), chosen))
            rows += [(config, s, runs) for config, s, runs in self.group("alpha") if config.head == head]
        return rows

    def alpha_table(self) -> None:
        add = self.lines.append
        add("## The scale α\n")
        add(f"Budget: the main table's, {self.budgets['alpha'].describe()}. α learned is the main table's run of "
            "the same head and seed.\n")
        add("| head and α | validation accuracy % | test accuracy % | final train loss | final train accuracy % | final α |")
        add("| --- | ---: | ---: | ---: | ---: | ---: |")
        rows = self.alpha_runs()
        for config, s, _ in rows:
            if not s["ok"]:
                add(failed_row(config, s, 6))
            else:
                add(f"| {config.label} | {percent(s['validation'])} | {percent(s['test'])} | {plain(s['train_loss'])} | "
                    f"{percent(s['train_accuracy'])} | {plain(s['alpha'], 3) if s['alpha'] else '-'} |")
        series = [(config.label, [run.history for run in runs if run.ok]) for config, s, runs in rows if s["ok"]]
        if series:
            title = "α fixed at 0.1, 1, 10 against learned"
            svg_curves(title, series, self.out / "results" / "alpha.svg")
            add(f"\n![{title}](results/alpha.svg)")
        learned = [(HEAD_TITLES[head], [run.history for run in runs if run.ok], 10.0 if head == "orthonormal" else 1.0)
                   for config, s, runs in self.group("main") for head in [config.slug]
                   if head in ("orthonormal", "hadamard") and s["ok"]]
        if learned:
            title = "The learned α per epoch (mean over the seeds)"
            svg_alpha(title, learned, self.out / "results" / "alpha-learned.svg")
            add(f"\n![{title}](results/alpha-learned.svg)\n")
            add("| epoch | " + " | ".join(f"{label}: α" for label, _, _ in learned) + " |")
            add("| ---: |" + " ---: |" * len(learned))
            epochs = min(len(h) for _, histories, _ in learned for h in histories)
            add("| 0 (initial) | " + " | ".join(f"{initial:.3f}" for _, _, initial in learned) + " |")
            for e in range(epochs):
                add(f"| {e + 1} | " + " | ".join(
                    plain((statistics.fmean(h[e]["alpha"] for h in histories),
                           statistics.stdev(h[e]["alpha"] for h in histories) if len(histories) > 1 else None), 3)
                    for _, histories, _ in learned) + " |")
        add("")

    def narrow_table(self) -> None:
        add = self.lines.append
        add("## Few features: cnn-narrow (N = 16, C = 10)\n")
        add(f"Reduced budget: {self.budgets['narrow'].describe()}.\n")
        add("| head | validation accuracy % | test accuracy % | final train loss | parameters (total) | head parameters |")
        add("| --- | ---: | ---: | ---: | ---: | ---: |")
        for config, s, _ in self.group("narrow"):
            if not s["ok"]:
                add(failed_row(config, s, 6))
            else:
                p = s["parameters"]
                add(f"| {config.label} | {percent(s['validation'])} | {percent(s['test'])} | {plain(s['train_loss'])} | "
                    f"{p['total']:,} | {p['head']:,} |")
        self.curves("narrow", "cnn-narrow (N = 16): learned vs fixed heads")
        if self.refusals:
            add("**C > N.** A fixed head needs at least as many features as classes; FixServe refuses C > N before "
                "training. Asked for a 20-class data set (synthetic images) on the N = 16 backbone:\n")
            for head, result in self.refusals.items():
                add(f"- {head}: exit status {result['exit_status']}, `{result['message']}`")
            add("")

    def pairs_table(self) -> None:
        add = self.lines.append
        add("## Many classes: Fashion-MNIST pairs (C = 100)\n")
        add("Two Fashion-MNIST images side by side (28×56), labelled by the ordered pair of their classes: 100 "
            "classes (`--dataset fashion-mnist-pairs`: 60,000 training pairs drawn from the training images, "
            "10,000 test pairs from the test images). The backbone is cnn-small with N = 128 features (just above "
            "C) or N = 64 (below C, where a fixed head needs a learned projection to N′ = 128 ≥ C). "
            f"Budget: {self.budgets['pairs'].describe().replace('the full training set (60,000 images)', 'all 60,000 training pairs').replace('training images', 'training pairs')}.\n")
        add("| head | test accuracy % | validation accuracy % | final train loss | parameters (total) | head parameters "
            "| head share | projection parameters | learned head of the same N, C (share) |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for config, s, _ in self.group("pairs"):
            if not s["ok"]:
                add(failed_row(config, s, 9))
                continue
            p = s["parameters"]
            learned = p["features"] * p["classes"] + p["classes"]
            as_learned = p["total"] - p["head"] + learned
            add(f"| {config.label} | {percent(s['test'])} | {percent(s['validation'])} | {plain(s['train_loss'])} | "
                f"{p['total']:,} | {p['head']:,} | {p['head'] / p['total'] * 100:.3f}% | {p['projection']:,} | "
                f"{learned:,} ({learned / as_learned * 100:.2f}%) |")
        self.curves("pairs", "Fashion-MNIST pairs (C = 100): learned vs fixed heads, N = 128 and N = 64")
        refusals = self.pair_refusals
        if refusals:
            add("**C > N, refused.** The fixed heads on the N = 64 backbone without a projection:\n")
            for head, result in refusals.items():
                add(f"- {head}: exit status {result['exit_status']}, `{result['message']}`")
            add("")

    def claims(self) -> None:
        """The paper's claims, as the team's summary of it states them, beside this run's figures."""
        add = self.lines.append
        main = {config.slug: s for config, s, _ in self.group("main")}
        alpha = {config.slug: s for config, s, _ in self.alpha_runs()}
        pairs = {config.slug: s for config, s, _ in self.group("pairs")}
        if not all(main.get(h, {}).get("ok") for h in ("learned", "orthonormal", "hadamard")):
            return
        add("## The paper's claims against these runs\n")
        add("| claim | the paper | here |")
        add("| --- | --- | --- |")
        labels = {config.slug: config.label for config, _, _ in self.group("main")}
        test = {h: main[h]["test"] for h in main if main[h].get("ok")}
        add("| A fixed head costs no accuracy | \"little or almost no decline\" on CIFAR-10/100 and ImageNet "
            "(ResNet-56, DenseNet, ResNet-50, ShuffleNet) | test accuracy: "
            + ", ".join(f"{labels[h]} {percent(test[h])}%" for h in test) + " |")
        loss = {h: main[h]["train_loss"] for h in main if main[h].get("ok")}
        add("| Fixed heads train to a higher training error, yet generalise as well | ResNet-56 on CIFAR-10: the "
            "learned head's training error is \"considerably lower\", validation accuracy the same | final train "
            "loss: " + ", ".join(f"{labels[h]} {plain(loss[h])}" for h in loss) + " |")
        fixed = [(k, alpha[k]) for k in ("orthonormal-fixed-0.1", "orthonormal-fixed-1", "orthonormal-fixed-10",
                                         "hadamard-fixed-0.1", "hadamard-fixed-1", "hadamard-fixed-10") if alpha.get(k, {}).get("ok")]
        if fixed:
            add("| α = 0.1 is too small; α = 1 or 10 is as good as learned | ResNet-56 on CIFAR-10, orthonormal head "
                "| test accuracy: " + ", ".join(f"{k.split('-')[0]} α = {k.split('-')[-1]} {percent(v['test'])}%" for k, v in fixed)
                + "; learned α: " + ", ".join(f"{h} {percent(alpha[h + '-learned']['test'])}%" for h in ("orthonormal", "hadamard")
                                               if alpha.get(h + "-learned", {}).get("ok")) + " |")
        grown = [(h, main[h]["alpha"][0]) for h in ("orthonormal", "hadamard") if main[h].get("alpha")]
        if grown:
            add("| The learned α grows, roughly logarithmically | Figure 1 | final α: "
                + ", ".join(f"{h} {value:.2f} (from {10 if h == 'orthonormal' else 1})" for h, value in grown)
                + "; per epoch in the α section |")
        p = main["learned"]["parameters"]
        share = f"{p['head'] / p['total'] * 100:.2f}% of cnn-small on Fashion-MNIST (C = 10)"
        if pairs.get("learned-n128", {}).get("ok"):
            q = pairs["learned-n128"]["parameters"]
            share += f", {q['head'] / q['total'] * 100:.2f}% on the pairs (C = 100)"
        add(f"| The head is a large share of a many-class model | about 8% of ResNet-50 and 12% of DenseNet-169 on "
            f"ImageNet, 4% of a DenseNet on CIFAR-100, over 60% of a ResNet-50 with 18K classes | {share} |")
        if pairs:
            add("| Fixed heads are hard when C > N | stated as a caveat, not measured | the pairs table: N = 64 < C = 100 "
                "is refused; a projection to 128 features is the remedy, measured there |")
        add("| A Hadamard head needs no stored matrix and no multiplications | argued | 44 stored bytes (α and b) "
            f"against {p['learned_head_bytes']:,} for a learned head here; served end to end with N = 2048, C = 1000 in "
            "docs/BENCHMARKS.md (`scripts/bench-large-head`) |")
        add("")

    def reading(self) -> None:
        add = self.lines.append
        add("## Reading\n")
        main = {config.slug: s for config, s, _ in self.group("main")}
        single = len(self.budgets["main"].seeds) == 1
        noise = (" One seed per head: the seed-to-seed spread was not measured in this budget, so a difference "
                 "of a few tenths of a point is indicative, not significant.") if single else ""
        if all(main.get(h, {}).get("ok") for h in ("learned", "orthonormal", "hadamard")):
            learned = main["learned"]["test"][0] * 100
            gaps = {h: main[h]["test"][0] * 100 - learned for h in ("orthonormal", "hadamard")}
            holds = all(abs(g) <= TARGET_GAP_POINTS for g in gaps.values())
            better = all(g > TARGET_GAP_POINTS for g in gaps.values())
            no_worse = all(g >= -TARGET_GAP_POINTS for g in gaps.values())
            verdict = ("**met**" if holds else
                       "**not met in the strict sense, in the fixed heads' favour**: "
                       + "; ".join(f"{HEAD_TITLES[h]} {'within' if abs(g) <= TARGET_GAP_POINTS else 'above'} the band "
                                   f"({g:+.2f})" for h, g in gaps.items())
                       + ": no fixed head is less accurate than the learned one by more than "
                       f"{TARGET_GAP_POINTS} points, which is the paper's claim"
                       if no_worse and not better else
                       f"**not met in the strict sense, in the fixed heads' favour**: both are more accurate than the "
                       f"learned head by more than {TARGET_GAP_POINTS} points, so the paper's claim that fixing the head "
                       f"costs no accuracy holds here (at this short budget of {self.budgets['main'].epochs} epochs the gap "
                       "may reflect the fixed heads converging faster rather than a difference at convergence)"
                       if better else "**not met**")
            keep = main.get("hadamard-keep-ones", {})
            kept = (f"; the Hadamard head with its all-ones row kept {keep['test'][0] * 100 - learned:+.2f} points"
                    if keep.get("ok") else "")
            spread = (" The seed-to-seed standard deviations are in the table; a gap smaller than about two of them is "
                      "within the noise of this budget.") if not single else ""
            add(f"- **(a) Equal accuracy.** Learned head {learned:.2f}% test "
                f"({'meets' if learned >= TARGET_LEARNED_ACCURACY * 100 else 'misses'} the {TARGET_LEARNED_ACCURACY * 100:.1f}% "
                f"goal for the learned baseline); orthonormal {gaps['orthonormal']:+.2f} points, Hadamard "
                f"{gaps['hadamard']:+.2f} points{kept}. The target (both fixed heads within {TARGET_GAP_POINTS} points of "
                f"the learned head) is {verdict}.{noise}{spread}")
            losses = {h: main[h]["train_loss"][0] for h in ("learned", "orthonormal", "hadamard")}
            higher = all(losses[h] > losses["learned"] for h in ("orthonormal", "hadamard"))
            add(f"- **(b) Higher final train loss with fixed heads.** Final train loss: learned {losses['learned']:.4f}, "
                f"orthonormal {losses['orthonormal']:.4f}, Hadamard {losses['hadamard']:.4f}: "
                f"**{'holds' if higher else 'does not hold'}** here"
                + ("" if higher else f", where training stops after {self.budgets['main'].epochs} epochs, far from "
                   "the near-zero train loss of the paper's long schedules; the fixed heads fit the training set faster")
                + ".")
            fastest = [(self.first_reaching(h, 0.92), h) for h in ("orthonormal", "hadamard")]
            reached = [(t, h) for t, h in fastest if t is not None]
            if reached:
                t, h = min(reached)
                add(f"- **92% within 10 minutes.** The {HEAD_TITLES[h]} head first reached ≥ 92% test accuracy after "
                    f"{t[1]} epoch(s), {t[0] / 60:.1f} minutes of training (evaluation included, seed {t[2]}): "
                    f"**{'yes' if t[0] <= 600 else 'no, it took longer'}**"
                    + (" in these runs, which shared the two cores two at a time; the shipped model's run on both "
                       "cores is the section above" if t[0] > 600 and (self.out / "results" / "shipped.md").exists() else "")
                    + ". (The cosine schedule spans the whole run, so an earlier epoch is not the same as a shorter run.)")
            else:
                best = max(((final(run, "test_accuracy"), train_seconds(run), run.config.head)
                            for config, _, runs in self.group("main") if config.head != "learned"
                            for run in runs if run.ok), default=None)
                detail = (f" (best: {HEAD_TITLES[best[2]]}, {best[0] * 100:.2f}% after {best[1] / 60:.1f} min of "
                          "training on the loaded machine)") if best else ""
                add(f"- **92% within 10 minutes.** No fixed-head run reached 92% test accuracy in this budget{detail}: "
                    "**no**.")
        alpha = {config.slug: s for config, s, _ in self.alpha_runs()}
        for head in ("orthonormal", "hadamard"):
            small, learned = alpha.get(f"{head}-fixed-0.1", {}), alpha.get(f"{head}-learned", {})
            if not (small.get("ok") and learned.get("ok")):
                continue
            worse = small["test"][0] < learned["test"][0] - 0.01 and small["train_loss"][0] > learned["train_loss"][0] + 0.1
            others = "".join(f" Fixed α = {value}: {alpha[k]['test'][0] * 100:.2f}% test, train loss "
                             f"{alpha[k]['train_loss'][0]:.4f}." for value in ("1", "10")
                             for k in [f"{head}-fixed-{value}"] if alpha.get(k, {}).get("ok"))
            add(f"- **(c) α = 0.1 is too small ({HEAD_TITLES[head]} head).** Fixed α = 0.1 ends at train loss "
                f"{small['train_loss'][0]:.4f} and {small['test'][0] * 100:.2f}% test, against "
                f"{learned['train_loss'][0]:.4f} and {learned['test'][0] * 100:.2f}% with α learned (final α "
                f"{learned['alpha'][0]:.2f}): **{'holds' if worse else 'does not hold'}**"
                + (" (with α = 0.1 the orthonormal head's logits lie in [−0.1, 0.1] plus the bias, so the softmax cannot "
                   "become confident)" if head == "orthonormal" else
                   f" (a Hadamard row has norm √N, so its logits span ±0.1·√{main.get('hadamard', {}).get('parameters', {}).get('features', 128)} "
                   "plus the bias)")
                + f".{others}")
        growth = []
        for config, s, runs in self.group("main"):
            if config.slug in ("orthonormal", "hadamard") and s["ok"]:
                histories = [run.history for run in runs if run.ok]
                values = [statistics.fmean(h[e]["alpha"] for h in histories) for e in range(min(map(len, histories)))]
                initial = 10.0 if config.slug == "orthonormal" else 1.0
                if len(values) >= 3:
                    growth.append(f"{HEAD_TITLES[config.slug]} {initial:g} → {values[0]:.2f} after epoch 1, "
                                  f"{values[len(values) // 2 - 1]:.2f} after epoch {len(values) // 2}, {values[-1]:.2f} after "
                                  f"epoch {len(values)}")
        if growth:
            add("- **(d) The learned α.** Mean over the seeds: " + "; ".join(growth) + ". The paper shows α growing "
                "roughly logarithmically over a long schedule; here it jumps in the first epoch and then grows slowly, "
                f"a shape close to logarithmic over {self.budgets['main'].epochs} epochs (whose cosine schedule also "
                "shrinks the steps), and the "
                "Hadamard head's α first falls back before it grows.")
        rows = {config.slug: s for config, s, _ in self.group("hadamard-rows")}
        if all(rows.get(k, {}).get("ok") for k in ("skip-ones", "keep-ones")):
            skip, keep = rows["skip-ones"]["validation"][0], rows["keep-ones"]["validation"][0]
            better = "skipping" if skip >= keep else "keeping"
            add(f"- **Hadamard variant (chosen on validation).** Skipping the all-ones row: {skip * 100:.2f}% validation; "
                f"keeping it: {keep * 100:.2f}%. **{better.capitalize()} the all-ones row** is better on validation "
                f"accuracy{' (a tie goes to the default, skipping)' if skip == keep else ''}. Why it can matter: with "
                "the all-ones row, one class's logit is α·Σᵢx̂ᵢ, which for non-negative (post-ReLU) features is at "
                "least α for every input, while every other Hadamard row sums to zero. Final α: "
                f"{rows['skip-ones']['alpha'][0]:.3f} with the row skipped, {rows['keep-ones']['alpha'][0]:.3f} with it kept"
                f"{' (the optimiser drove α negative to suppress that class, which also flips every other class direction)' if rows['keep-ones']['alpha'][0] < 0 else ''}."
                + (f" At the main table's full budget the difference all but goes: {main['hadamard-keep-ones']['test'][0] * 100:.2f}% "
                   f"test with the row kept against {main['hadamard']['test'][0] * 100:.2f}% skipped (validation "
                   f"{main['hadamard-keep-ones']['validation'][0] * 100:.2f}% against {main['hadamard']['validation'][0] * 100:.2f}%), "
                   f"with α again negative ({main['hadamard-keep-ones']['alpha'][0]:.2f}): the kept row costs the short "
                   "runs, not the long ones." if main.get("hadamard-keep-ones", {}).get("ok") and main.get("hadamard", {}).get("ok") else ""))
        narrow = {config.slug: s for config, s, _ in self.group("narrow")}
        if all(narrow.get(h, {}).get("ok") for h in ("learned", "orthonormal", "hadamard")):
            tests = {h: narrow[h]["test"][0] * 100 for h in ("learned", "orthonormal", "hadamard")}
            collapsed = narrow["learned"]["train_accuracy"][0] < 0.2
            comparison = ("the learned head collapsed to chance (below), so there is no fair learned baseline here; "
                          if collapsed else f"the learned head reaches {tests['learned']:.2f}%; ")
            add(f"- **N close to C.** With N = 16 features for C = 10 classes, {comparison}the fixed heads reach "
                f"{tests['orthonormal']:.2f}% (orthonormal) and {tests['hadamard']:.2f}% (Hadamard) test accuracy"
                + (f", against {rows['skip-ones']['test'][0] * 100:.2f}% (Hadamard) and {alpha['learned']['test'][0] * 100:.2f}% "
                   "(orthonormal) for the N = 128 network at the same reduced budget (tables above)"
                   if rows.get("skip-ones", {}).get("ok") and alpha.get("learned", {}).get("ok") else "")
                + ". The paper's caveat is that fixed heads need N ≥ C with room to spare; FixServe refuses "
                "C > N (below the table) and offers a learned projection to N′ ≥ C instead (the many-class table).")
        pairs = {config.slug: s for config, s, _ in self.group("pairs")}
        if all(pairs.get(k, {}).get("ok") for k in ("learned-n128", "orthonormal-n128", "hadamard-n128")):
            learned = pairs["learned-n128"]["test"][0] * 100
            p = pairs["learned-n128"]["parameters"]
            add(f"- **Many classes (C = 100).** With N = 128 features, just above C, the learned head reaches "
                f"{learned:.2f}% test; orthonormal {pairs['orthonormal-n128']['test'][0] * 100 - learned:+.2f} points, "
                f"Hadamard {pairs['hadamard-n128']['test'][0] * 100 - learned:+.2f} points. The learned head is "
                f"{p['head']:,} of {p['total']:,} parameters ({p['head'] / p['total'] * 100:.2f}%); a fixed head keeps "
                f"{pairs['hadamard-n128']['parameters']['head']} (α and b).")
        if pairs.get("learned-n64", {}).get("ok"):
            learned = pairs["learned-n64"]["test"][0] * 100
            remedies = [(k, pairs[k]) for k in ("orthonormal-n64-p128", "hadamard-n64-p128") if pairs.get(k, {}).get("ok")]
            narrow_runs = [run for config, _, runs in self.group("pairs") if config.slug == "learned-n64" for run in runs if run.ok]
            collapsed = [run for run in narrow_runs if final(run, "train_accuracy") < 0.2]
            trained = [final(run, "test_accuracy") * 100 for run in narrow_runs if run not in collapsed]
            per_seed = (" (" + ", ".join(f"seed {run.seed}: {final(run, 'test_accuracy') * 100:.2f}%" for run in narrow_runs) + ")"
                        if len(narrow_runs) > 1 else "")
            wide = pairs.get("learned-n128", {})
            add(f"- **C > N (N = 64, C = 100).** FixServe refuses a fixed head there (above); the learned head "
                f"reaches {learned:.2f}% test{per_seed}"
                + (f" — {'every seed' if len(collapsed) == len(narrow_runs) else 'seed ' + ', '.join(str(run.seed) for run in collapsed)} "
                   "collapsed near chance (1%), as the learned head on the N = 16 backbone does (above): "
                   "the same learning rate that the normalised fixed heads take in their stride drives its "
                   "narrow ReLU feature layer dead" + self.dead_units("pairs", "learned-n64", seed=collapsed[0].seed) if collapsed else "")
                + (f"; the seeds that train end {min(trained):.2f}–{max(trained):.2f}%, "
                   f"{wide['test'][0] * 100 - max(trained):.1f} or more points below the learned head with N = 128: "
                   "fewer features than classes costs a learned head too"
                   if trained and collapsed and wide.get("ok") else "")
                + f". With a learned projection to 128 features before the fixed head: "
                + ", ".join(f"{HEAD_TITLES[k.split('-')[0]]} {s['test'][0] * 100:.2f}% "
                            f"({s['test'][0] * 100 - learned:+.2f} points; the projection adds "
                            f"{s['parameters']['projection']:,} learned parameters, the learned head it replaces "
                            f"has {64 * 100 + 100:,})" for k, s in remedies)
                + ".")
        for config, s, runs in self.group("narrow"):
            for run in runs:
                if run.ok and final(run, "train_accuracy") < 0.2:
                    layer = feature_layer(run)
                    evidence = ""
                    if layer:
                        sums, biases = layer
                        evidence = (f" Its {len(biases)}-unit feature layer ends with per-unit weight sums between "
                                    f"{min(sums):.1f} and {max(sums):.1f} and {sum(b < 0 for b in biases)} of "
                                    f"{len(biases)} biases negative, on non-negative (ReLU, max-pooled) inputs: the units "
                                    "are dead (ReLU outputs 0 for every image), so the logits are the bias alone.")
                    add(f"- **Collapse: {config.label}, seed {run.seed}** stayed at chance ({final(run, 'test_accuracy') * 100:.1f}% "
                        f"test, train loss {final(run, 'train_loss'):.3f}; ln 10 = 2.303).{evidence}"
                        + (" With the same learning rate and seed the fixed heads, which see x/‖x‖ and learn only α and "
                           "b, trained normally." if config.head == "learned" and self.fixed_narrow_trained(run.seed) else ""))
        add("")

    def dead_units(self, group: str, slug: str, seed: int | None = None) -> str:
        """Evidence of dead feature units in a collapsed run: its feature layer's biases and weight sums."""
        for config, _, runs in self.group(group):
            for run in runs:
                if config.slug == slug and run.ok and (seed is None or run.seed == seed) and (layer := feature_layer(run)):
                    sums, biases = layer
                    return (f" (seed {run.seed}: {sum(b < 0 for b in biases)} of {len(biases)} feature biases negative, "
                            f"per-unit weight sums from {min(sums):.1f} to {max(sums):.1f}, on non-negative inputs)")
        return ""

    def fixed_narrow_trained(self, seed: int) -> bool:
        fixed = [run for config, _, runs in self.group("narrow") if config.head != "learned" for run in runs if run.seed == seed]
        return bool(fixed) and all(run.ok and final(run, "train_accuracy") > 0.5 for run in fixed)

    def first_reaching(self, slug: str, threshold: float):
        best = None
        for config, _, runs in self.group("main"):
            if config.slug != slug:
                continue
            for run in runs:
                elapsed = 0.0
                for epoch in run.history:
                    elapsed += epoch["seconds"]
                    if epoch["test_accuracy"] >= threshold:
                        if best is None or elapsed < best[0]:
                            best = (elapsed, epoch["epoch"], run.seed)
                        break
        return best

    def commands(self) -> None:
        add = self.lines.append
        add("## Runs\n")
        add("Each command with its wall time (data loading, training and every epoch's evaluation, on the shared machine). "
            "Raw per-run JSON (configuration, command, per-epoch history, head, parameter counts): `docs/results/runs/`.\n")
        add("```")
        for run in self.runs:
            add(display(run.command) + (f"    # {run.wall_seconds / 60:.1f} min" if run.ok else f"    # failed: {run.error}"))
        for result in list(self.refusals.values()) + list(self.pair_refusals.values()):
            add(display(result["command"]) + f"    # refused, exit status {result['exit_status']}")
        add("```")


def write_raw(runs: list[Run], out: Path) -> None:
    folder = out / "results" / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        record = {"name": run.name, "group": run.config.group, "label": run.config.label, "seed": run.seed,
                  "command": display(run.command), "ok": run.ok, "error": run.error or None,
                  "wall_seconds": round(run.wall_seconds, 1)}
        if run.ok:
            record |= {"head": run.manifest.get("head"), "parameters": parameter_counts(run),
                       "metrics": run.manifest.get("provenance", {}).get("metrics"), "history": run.history}
        (folder / f"{run.name}.json").write_text(json.dumps(record, indent=1) + "\n")


# ---------------------------------------------------------------------------------------------
# Shipping


def shipped_accuracy(folder: Path) -> float | None:
    """The test accuracy in a shipped model's manifest, if there is one."""
    try:
        return json.loads((folder / "1" / "manifest.json").read_text())["provenance"]["metrics"]["test_accuracy"]
    except (OSError, KeyError, ValueError):
        return None


def ship(runs: list[Run], models: Path, budget: Budget, heads: set[str]) -> None:
    """Copies each seed-1 main run of `heads` into the model repository as version 1, with a
    model card, where it is more accurate on the test set than the model shipped under that name."""
    for run in runs:
        if run.config.group != "main" or run.config.slug not in SHIPPED_NAMES or run.seed != 1 or not run.ok:
            continue
        if run.config.slug not in heads:
            continue
        name = SHIPPED_NAMES[run.config.slug]
        target = models / name
        current = shipped_accuracy(target)
        if current is not None and current >= final(run, "test_accuracy"):
            print(f"kept {name}: {current * 100:.2f}% test against {final(run, 'test_accuracy') * 100:.2f}% for {run.name}", flush=True)
            continue
        staging = target / ".tmp-ship"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for file in ("manifest.json", "model.safetensors", "history.json", "curves.svg"):
            shutil.copy2(run.folder / file, staging / file)
        shutil.rmtree(target / "1", ignore_errors=True)
        os.rename(staging, target / "1")
        if run.config.slug == "hadamard" and not (target / "config.json").exists():
            # Batch what queued while the model was busy, with no added delay.
            (target / "config.json").write_text(json.dumps(
                {"maxBatchSize": 64, "maxQueueDelayMicroseconds": 0, "maxQueueSize": 1024}, indent=2) + "\n")
        (target / "README.md").write_text(model_card(name, run, budget))
        print(f"shipped {run.name} as {target / '1'}", flush=True)


def model_card(name: str, run: Run, budget: Budget) -> str:
    p = parameter_counts(run)
    head = run.manifest["head"]
    last = run.history[-1]
    created = run.manifest.get("provenance", {}).get("created", "")
    details = {
        "learned": "a learned fully connected layer W (N×C) with bias; x is not normalised.",
        "orthonormal": f"fixed: y = α·Qᵀx̂ + b with x̂ = x/‖x‖₂ and Q a random orthonormal N×C matrix "
                       f"regenerated from seed {head.get('seed')} (not stored); α and b learned.",
        "hadamard": "fixed: y = α·Hᵀx̂ + b with x̂ = x/‖x‖₂ and H the first C rows of a Sylvester Hadamard matrix "
                    f"after the all-ones row (skipAllOnesRow = {str(head.get('skipAllOnesRow', True)).lower()}), "
                    "applied by a fast Walsh–Hadamard transform and never stored; α and b learned.",
    }[head["kind"]]
    alpha = f"{head['alpha']:.4f}" if head["kind"] != "learned" else "-"
    return f"""# {name}

Fashion-MNIST classifier (10 classes of 28×28 grayscale clothing images): the `cnn-small` backbone
(two 3×3 conv + batch-norm + ReLU + max-pool stages with 32 and 64 channels, then a fully connected
layer to N = {head['features']} features with ReLU) and a {HEAD_TITLES[head['kind']]} head.

| | |
| --- | --- |
| test accuracy | {last['test_accuracy'] * 100:.2f}% (10,000 Fashion-MNIST test images) |
| validation accuracy | {last['validation_accuracy'] * 100:.2f}% (6,000 images held out from the training set) |
| final train loss | {last['train_loss']:.4f} |
| head | {details} |
| head kind, N, C, α | {head['kind']}, {head['features']}, {head['classes']}, {alpha} |
| parameters | {p['total']:,} trainable: {p['backbone']:,} backbone, {p['head']:,} head ({p['head'] / p['total'] * 100:.3f}%) |
| head stored bytes | {p['head_bytes']:,} (a learned head of the same shape stores {p['learned_head_bytes']:,}) |
| training | {Budget(budget.epochs, budget.training_limit, [run.seed]).describe()}; {train_seconds(run) / 60:.1f} min (evaluation included) on a shared, loaded 2-core machine |
| seed | {run.seed} |
| created | {created} |

Data: Fashion-MNIST (Xiao et al. 2017), the Debian `dataset-fashion-mnist` package,
54,000 images for training, 6,000 held out for validation, the 10,000 test images for the figure above.

Trained with (stored under a scratch name, then copied here as version 1):

```
{display(run.command)}
```

by `scripts/paper_experiment.py`; see `docs/RESULTS.md` for the comparison with the other heads.
`1/history.json` holds the per-epoch numbers and `1/curves.svg` the learning curves.
"""


# ---------------------------------------------------------------------------------------------


def seeds(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixserve", default=".build/release/fixserve", help="the fixserve binary (built with -c release)")
    parser.add_argument("--scratch", default=".build/paper-experiment", help="scratch directory: model repository, logs, index")
    parser.add_argument("--out", default="docs", help="where RESULTS.md and results/ are written")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of the main runs")
    parser.add_argument("--training-limit", type=int, default=None, help="training images of the main runs (default all)")
    parser.add_argument("--seeds", type=seeds, default=[1], help="comma-separated seeds of the main runs")
    parser.add_argument("--variant-epochs", type=int, default=3, help="epochs of the variant runs")
    parser.add_argument("--variant-training-limit", type=int, default=20000, help="training images of the variant runs")
    parser.add_argument("--variant-seeds", type=seeds, default=[1], help="comma-separated seeds of the variant runs")
    parser.add_argument("--alpha-seeds", type=seeds, default=None, help="seeds of the α runs, at the main budget (default: the first main seed)")
    parser.add_argument("--pairs-epochs", type=int, default=3, help="epochs of the many-class (pairs) runs")
    parser.add_argument("--pairs-training-limit", type=int, default=None, help="training pairs of the many-class runs (default all 60,000)")
    parser.add_argument("--pairs-seeds", type=seeds, default=[1], help="comma-separated seeds of the many-class runs")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (each with --threads threads)")
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"which tables to run: {', '.join(GROUPS)}")
    parser.add_argument("--only", default="", help="comma-separated configuration names to run (e.g. hadamard,keep-ones); default all")
    parser.add_argument("--threads", type=int, default=None, help="threads per run (default: fixserve's, all cores)")
    parser.add_argument("--quick", action="store_true", help="smoke-test budget: 1 epoch on 3,000 (main) / 2,000 images")
    parser.add_argument("--report-only", action="store_true", help="train nothing; report the runs already recorded")
    parser.add_argument("--ship", metavar="MODELS", help="copy the seed-1 main runs into this model repository as version 1, each where it beats the model shipped there")
    parser.add_argument("--ship-heads", default="hadamard,orthonormal,learned",
                        help="which heads --ship may replace (the default model's card cites the run it came from)")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.training_limit, args.variant_epochs, args.variant_training_limit = 1, 3000, 1, 2000
        args.pairs_epochs, args.pairs_training_limit = 1, 2000
    groups = [group.strip() for group in args.groups.split(",") if group.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}; use {', '.join(GROUPS)}")
    fixserve = args.fixserve if os.path.isabs(args.fixserve) else str(REPO / args.fixserve)
    if not args.report_only and not os.access(fixserve, os.X_OK):
        parser.error(f"{fixserve} is not an executable; build it with `swift build -c release --product fixserve`")
    scratch, out = REPO / args.scratch, REPO / args.out
    command = shlex.join(["scripts/paper_experiment.py", *sys.argv[1:]])
    # Each training invocation is remembered in the scratch directory, so a report written later
    # (--report-only) names the commands that produced its runs.
    invocations_path = scratch / "invocations.json"
    invocations = json.loads(invocations_path.read_text()) if invocations_path.exists() else []
    if not args.report_only and command not in invocations:
        invocations.append(command)
        scratch.mkdir(parents=True, exist_ok=True)
        invocations_path.write_text(json.dumps(invocations, indent=1))
    command = invocations or [command]

    main_budget = Budget(args.epochs, args.training_limit, args.seeds)
    variant_budget = Budget(args.variant_epochs, args.variant_training_limit, args.variant_seeds)
    budgets = {group: (main_budget if group == "main" else variant_budget) for group in GROUPS}
    budgets["alpha"] = Budget(args.epochs, args.training_limit, args.alpha_seeds or args.seeds[:1])
    budgets["pairs"] = Budget(args.pairs_epochs, args.pairs_training_limit, args.pairs_seeds)
    runner = Runner(fixserve, scratch, args.threads, args.report_only)
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"started {started:%Y-%m-%d %H:%M} UTC", flush=True)
    chosen = [config for config in configurations()
              if config.group in groups and (not args.only or config.slug in args.only.split(","))]
    # Seed by seed within a group, so that an interrupted experiment leaves whole seeds behind.
    tasks = []
    for group in GROUPS:
        for seed in budgets[group].seeds:
            tasks += [(config, seed, budgets[group]) for config in chosen if config.group == group]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = list(pool.map(lambda task: runner.run(*task), tasks))
    refusals = {}
    if "refusal" in groups and not args.report_only:
        refusals = refusal(fixserve, scratch, args.threads)
        (scratch / "refusal.json").write_text(json.dumps(refusals, indent=1))
    elif (scratch / "refusal.json").exists():
        refusals = json.loads((scratch / "refusal.json").read_text())

    pair_refusals = {}
    if "pairs" in groups and not args.report_only:
        pair_refusals = pairs_refusal(fixserve, scratch, args.threads)
        (scratch / "pairs-refusal.json").write_text(json.dumps(pair_refusals, indent=1))
    elif (scratch / "pairs-refusal.json").exists():
        pair_refusals = json.loads((scratch / "pairs-refusal.json").read_text())

    (out / "results").mkdir(parents=True, exist_ok=True)
    write_raw(runs, out)
    Report(runs, budgets, refusals, command, out, pair_refusals).write()
    print(f"wrote {out / 'RESULTS.md'}", flush=True)
    if args.ship:
        ship(runs, REPO / args.ship, main_budget, {head.strip() for head in args.ship_heads.split(",") if head.strip()})
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
