#!/usr/bin/python3
"""Export torchvision models to ONNX and record torchvision feature-extraction references.

onnxfx promises torchvision-style feature extraction (node names as given by
torchvision.models.feature_extraction) on ONNX models. To test that promise we
need, for a few models, the ONNX file plus the tensors that torchvision itself
returns for the same weights and inputs. This script produces them in DIR
(default: <repo>/.cache/models):

  <model>.onnx                  TorchScript export, opset 13, input "x", output "logits",
                                dynamic batch axis, BatchNorm folded into Conv (eval mode).
  <model>.ref.json              model name, opset, torchvision's train/eval node name lists,
                                and per test case the input, each requested feature and the
                                full model output, each as {"dims": [...], "file": "..."}.
  <model>.case<i>.<what>.f32    raw little-endian float32 tensors (no header), referenced
                                from the JSON with paths relative to DIR.
  <model>.stamp                 sha256 of this script; if it matches and every file listed
                                above exists, the model is skipped (cheap re-runs).

Weights are random (seeded), never downloaded. Run with Debian's interpreter, which has
torch/torchvision/onnx:  /usr/bin/python3 tests/tools/export_models.py [--out DIR]
[--models resnet18,mobilenet_v2]
"""

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

OPSET = 13
INPUT_NAME = "x"
OUTPUT_NAME = "logits"

# Per model: torchvision feature nodes to record, the node whose output must equal the
# full model output (a sanity check of the references), and the test inputs as
# (seed, batch). Add a model here to export it; its name must be a torchvision.models
# builder.
MODELS = {
    "resnet18": {
        "nodes": ["relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"],
        "final_node": "fc",
        "cases": [(1, 1), (2, 2)],
    },
    "mobilenet_v2": {
        "nodes": [f"features.{i}" for i in range(19)] + ["classifier.1"],
        "final_node": "classifier.1",
        "cases": [(1, 1)],
    },
}

IMAGE_SHAPE = (3, 224, 224)
REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

# torch.fx tracing note: torchvision 0.14's tracer works unmodified on Debian's
# Python 3.11 for the models listed above, so no workaround is applied. If a model
# added later fails to trace, pass tracer_kwargs / leaf modules in extract_features().


class ExportError(Exception):
    """A failure that should stop the script with a readable message."""


# ---------------------------------------------------------------------------
# Model construction


def build_model(name):
    """Seeded random-init torchvision model, prepared so that mistakes can't hide."""
    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        raise ExportError(f"unknown torchvision model '{name}'")
    torch.manual_seed(0)
    model = builder(weights=None)
    randomize_for_testing(model, torch.Generator().manual_seed(0))
    disable_inplace(model)
    return model.eval()


def randomize_for_testing(model, gen):
    """Make every weight matter.

    Default init leaves BatchNorm as identity (mean 0, var 1, weight 1, bias 0) and
    some biases at zero; an exporter or runtime that mishandles BN folding or drops
    a bias would then still produce the right numbers. Random values expose that.
    """
    def uniform(t, lo, hi):
        return torch.rand(t.shape, generator=gen, dtype=t.dtype) * (hi - lo) + lo

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.copy_(uniform(module.running_mean, -0.5, 0.5))
                module.running_var.copy_(uniform(module.running_var, 0.5, 1.5))  # must stay > 0
                module.weight.copy_(uniform(module.weight, 0.5, 1.5))
                module.bias.copy_(uniform(module.bias, -0.2, 0.2))
        for param in model.parameters():
            if not param.any():
                param.copy_(uniform(param, -0.05, 0.05))


def disable_inplace(model):
    """In-place activations overwrite tensors that the feature extractor returns."""
    for module in model.modules():
        if hasattr(module, "inplace"):
            module.inplace = False


# ---------------------------------------------------------------------------
# ONNX export


def export_onnx(model, path):
    x = torch.randn(1, *IMAGE_SHAPE)
    torch.onnx.export(
        model, x, str(path),
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(str(path)))


def check_with_onnx_reference(path, x, logits):
    """Cross-check the export with onnx.reference when this onnx version has it (>= 1.13)."""
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        return "onnx.reference unavailable, ONNX output not checked"
    (out,) = ReferenceEvaluator(str(path)).run(None, {INPUT_NAME: x.numpy()})
    diff = float(np.abs(out - logits.numpy()).max())
    if diff > 1e-3:
        raise ExportError(f"{path.name}: onnx.reference logits differ from torch by {diff}")
    return f"onnx.reference max |diff| {diff:.2e}"


# ---------------------------------------------------------------------------
# torchvision references


def resolve_node(query, graph_nodes):
    """The graph node torchvision returns for `query`: the last one inside that prefix.

    Mirrors create_feature_extractor's matching (compare the first depth+1 name parts).
    """
    depth = query.count(".")
    matches = [n for n in graph_nodes if ".".join(n.split(".")[: depth + 1]) == query]
    if not matches:
        raise ExportError(f"feature node '{query}' not in the traced graph")
    return matches[-1]


def extraction_groups(queries, graph_nodes):
    """Split queries into create_feature_extractor calls.

    create_feature_extractor assigns each graph node to at most one query, so two
    queries resolving to the same node would silently give one of them an earlier
    node. Such queries get a call of their own.
    """
    resolved = [resolve_node(q, graph_nodes) for q in queries]
    if len(set(resolved)) == len(resolved):
        return [list(queries)]
    return [[q] for q in queries]


def extract_features(model, queries, graph_nodes, x):
    features = {}
    with torch.no_grad():
        for group in extraction_groups(queries, graph_nodes):
            extractor = create_feature_extractor(model, return_nodes=group)
            features.update(extractor(x))
    for name, value in features.items():
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"feature '{name}' is a {type(value).__name__}, not a tensor")
    return features


# ---------------------------------------------------------------------------
# Output files


def file_stem(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def write_tensor(out_dir, file_name, tensor):
    array = tensor.detach().contiguous().numpy().astype("<f4")
    array.tofile(out_dir / file_name)
    return {"dims": list(array.shape), "file": file_name}


def listed_files(ref):
    """Every data file a ref.json points at."""
    for case in ref["cases"]:
        yield case["input"]["file"]
        yield case["logits"]["file"]
        yield from (f["file"] for f in case["features"].values())


def is_up_to_date(out_dir, name):
    stamp = out_dir / f"{name}.stamp"
    ref_path = out_dir / f"{name}.ref.json"
    if not (stamp.is_file() and ref_path.is_file() and (out_dir / f"{name}.onnx").is_file()):
        return False
    if stamp.read_text().strip() != SCRIPT_HASH:
        return False
    try:
        ref = json.loads(ref_path.read_text())
        return all((out_dir / f).is_file() for f in listed_files(ref))
    except (ValueError, KeyError, TypeError):
        return False


# ---------------------------------------------------------------------------
# Per-model driver


def run_case(model, name, spec, graph_nodes, index, seed, batch, out_dir):
    torch.manual_seed(seed)
    x = torch.randn(batch, *IMAGE_SHAPE)
    with torch.no_grad():
        logits = model(x)
    features = extract_features(model, spec["nodes"], graph_nodes, x)

    final = features[spec["final_node"]]
    diff = float((final - logits).abs().max())
    if final.shape != logits.shape or diff > 1e-5:
        raise ExportError(f"{name}: feature '{spec['final_node']}' differs from model(x) by {diff}")

    prefix = f"{name}.case{index}"
    case = {
        "input": {"name": INPUT_NAME, **write_tensor(out_dir, f"{prefix}.input.f32", x)},
        "features": {
            node: write_tensor(out_dir, f"{prefix}.{file_stem(node)}.f32", features[node])
            for node in spec["nodes"]
        },
        "logits": write_tensor(out_dir, f"{prefix}.logits.f32", logits),
    }
    return case, x, logits


def node_kinds(model, names):
    """Maps each torchvision node name to the class of the module it calls, or "function"
    (and "placeholder" for the input), so tests can leave out nodes that an ONNX export
    cannot keep (Conv2d/BatchNorm fused, Dropout/Identity gone in eval)."""
    modules = dict(model.named_modules())
    kinds = {}
    for i, node in enumerate(names):
        if i == 0 and node == INPUT_NAME:
            kinds[node] = "placeholder"
            continue
        # a module called again gets a _N suffix from torchvision (relu, relu_1)
        module = modules.get(node) or modules.get(re.sub(r"_\d+$", "", node))
        kinds[node] = type(module).__name__ if module is not None and node else "function"
    return kinds


def export_model(name, out_dir):
    spec = MODELS[name]
    model = build_model(name)
    onnx_path = out_dir / f"{name}.onnx"
    export_onnx(model, onnx_path)

    train_nodes, eval_nodes = get_graph_node_names(model)
    cases, notes = [], []
    for index, (seed, batch) in enumerate(spec["cases"]):
        case, x, logits = run_case(model, name, spec, eval_nodes, index, seed, batch, out_dir)
        cases.append(case)
        if index == 0:
            notes.append(check_with_onnx_reference(onnx_path, x, logits))

    ref = {"model": name, "opset": OPSET, "train_nodes": train_nodes,
           "eval_nodes": eval_nodes, "node_kinds": node_kinds(model, eval_nodes), "cases": cases}
    (out_dir / f"{name}.ref.json").write_text(json.dumps(ref, indent=1) + "\n")
    # Written last: an interrupted run leaves no stamp and is redone next time.
    (out_dir / f"{name}.stamp").write_text(SCRIPT_HASH + "\n")
    return notes


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".cache" / "models",
                        help="output directory (default: <repo>/.cache/models)")
    parser.add_argument("--models", default="resnet18,mobilenet_v2",
                        help="comma-separated model names, from: " + ", ".join(MODELS))
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"no feature-node list for {', '.join(unknown)}; add it to MODELS")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)  # references are small; leave the other core free
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        if is_up_to_date(args.out, name):
            print(f"{name}: up to date")
            continue
        start = time.monotonic()
        notes = export_model(name, args.out)
        print(f"{name}: exported to {args.out} in {time.monotonic() - start:.1f}s ({'; '.join(notes)})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # any failure: one clear line, non-zero exit
        print(f"export_models.py: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
