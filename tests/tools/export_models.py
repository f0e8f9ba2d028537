#!/usr/bin/python3
"""Export torchvision models to ONNX and record torchvision feature-extraction references.

onnxfx promises torchvision-style feature extraction (node names as given by
torchvision.models.feature_extraction) on ONNX models. To test that promise we
need, per model, the ONNX file plus the tensors that torchvision itself returns
for the same weights and inputs. This script produces them in DIR (default:
<repo>/.cache/models, or <repo>/.cache/models/opset<N> for --opset N other than 13):

  <model>.onnx                  TorchScript export, opset 13 (--opset), input "x", output
                                "logits", dynamic batch axis, BatchNorm folded into Conv.
  <model>.ref.json              model name, family, opset, torchvision's train/eval node name
                                lists, node_kinds (per eval name: the called module's class,
                                "function", "placeholder", "parameter" for get_attr, "constant"
                                for nodes that do not depend on the input), bn_fused_nodes
                                (Conv2d/BatchNorm2d pairs the exporter folds into one Conv),
                                non_tensor_nodes, sampled_nodes (see below), and per test case
                                the input, each requested feature and the full model output,
                                each as {"dims": [...], "file": "..."}.
  <model>.case<i>.<what>.f32    raw little-endian float32 tensors (no header), referenced
                                from the JSON with paths relative to DIR.
  <model>.stamp                 a digest of what the files depend on (REFERENCE_VERSION, opset,
                                the model's settings, torch/torchvision versions); if it matches
                                and every file listed above exists, the model is skipped.
                                Bump REFERENCE_VERSION when a change alters the written files.

sampled_nodes: 10 eval names drawn the way torchvision's own feature-extraction test draws
them (random.sample with seed 0 over the eval names, minus names containing getitem,
floordiv, size, chunk, _assert, eq, dim or getattr), restricted to names an ONNX export can
keep: not the input, not parameters or input-independent values (constant-folded), not a
Conv2d/BatchNorm2d pair the exporter folds, not Dropout/Identity/StochasticDepth, and only
tensor values. Their torchvision features are in case 0.

Model selection: --models a,b (default resnet18,mobilenet_v2, whose hand-picked feature lists
tests/js/extract.test.mjs reads), --family-smallest (one small model per family: the CI set),
--families f,g, --all (the whole classification zoo); --list shows the families.

How the traps known from building such references are handled:
  - random init leaves BatchNorm an identity and biases zero, which hides folding mistakes:
    BatchNorm statistics/affine parameters and all-zero parameters get seeded random values;
  - in-place activations make torchvision return an overwritten value: every module's
    `inplace` is turned off, and so is `inplace=True` of functional calls in the traced graphs
    (F.relu in Inception/GoogLeNet BasicConv2d, DenseNet's final relu);
  - two requests resolving to one node come back as one key: those are extracted separately;
  - contiguous/clone/detach leave no ONNX node: they are not sampled;
  - with grad disabled, nn.MultiheadAttention takes a fused fast path that neither exports nor
    matches: vit/swin/maxvit are exported and their references computed with grad enabled;
  - googlenet and inception_v3 are built with aux_logits=False, init_weights=True (the aux
    branches only run in training; transform_input stays False, the weights=None default);
  - torch 1.13's fx Proxy.__iter__ finds the calling instruction by f_lasti // 2, which is
    wrong on Python 3.11 (inline caches), so `n, c, h, w = x.shape` fails to trace
    ("Proxy object cannot be iterated": vit, shufflenet_v2, maxvit). On Python >= 3.11 with
    torch < 2 the lookup is replaced by one by instruction offset, which gives the names
    torchvision 0.14 gives on Python 3.10.

Weights are random (seeded), never downloaded. Run with Debian's interpreter, which has
torch/torchvision/onnx:  /usr/bin/python3 tests/tools/export_models.py [--out DIR]
[--opset 13|17] [--models a,b | --family-smallest | --families f,g | --all] [--force]
"""

import argparse
import dis
import hashlib
import inspect
import json
import random
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.fx as fx
import torchvision
from torchvision.models import feature_extraction as tv_fx
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

DEFAULT_OPSET = 13
INPUT_NAME = "x"
OUTPUT_NAME = "logits"
REFERENCE_VERSION = 2  # bump when a change alters what is written for a model

# Hand-picked feature nodes for the two models the base tests use: the nodes to record, the
# node whose output must equal the full model output (a sanity check of the references), and
# the test inputs as (seed, batch). Every other model gets sampled nodes and one case (1, 1).
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

# The classification zoo, by family; the first model of a family is its CI representative
# (the smallest, or the one covering the family's blocks at least cost).
ZOO = {
    "resnet": ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
               "wide_resnet50_2"],
    "vgg": ["vgg11", "vgg11_bn", "vgg16"],
    "alexnet": ["alexnet"],
    "squeezenet": ["squeezenet1_1", "squeezenet1_0"],
    "densenet": ["densenet121", "densenet169"],
    "googlenet": ["googlenet"],
    "inception": ["inception_v3"],
    "mobilenet_v2": ["mobilenet_v2"],
    "mobilenet_v3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "shufflenet": ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"],
    "efficientnet": ["efficientnet_b0", "efficientnet_b1"],
    "efficientnet_v2": ["efficientnet_v2_s"],
    "regnet": ["regnet_y_400mf", "regnet_x_400mf", "regnet_x_800mf", "regnet_y_800mf"],
    "convnext": ["convnext_tiny"],
    "vit": ["vit_b_32", "vit_b_16", "vit_l_16"],  # vit_l_16: 1.2 GB, the big-heap case (docs/api.md)
    "swin": ["swin_t"],  # swin_v2_t: torch 1.13 cannot export aten::zero (opset 13 and 17)
    "maxvit": ["maxvit_t"],
}
# The CI set beyond one model per family: graphs that test what their family's first does not.
# densenet169: Concats of 33 inputs (densenet121's widest has 25), past any 32-bit input mask.
CI_EXTRA = ["densenet169"]
FAMILY_OF = {m: f for f, models in ZOO.items() for m in models}

BUILD_KWARGS = {
    "googlenet": {"aux_logits": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "init_weights": True},
}
IMAGE_SIZE = {"inception_v3": 299}
GRAD_FAMILIES = {"vit", "swin", "maxvit"}

SAMPLE_SIZE = 10
SAMPLE_SEED = 0
# torchvision's test leaves out names containing these (they are not tensors)
TORCHVISION_TEST_EXCLUDES = ["getitem", "floordiv", "size", "chunk", "_assert", "eq", "dim", "getattr"]
# node kinds an ONNX export has no node for
NO_ONNX_NODE = {"placeholder", "parameter", "constant", "Dropout", "Dropout2d", "Identity", "StochasticDepth"}
# tensor methods the exporter emits no node for (the value is its input's)
NO_ONNX_NODE_METHODS = {"contiguous", "clone", "detach"}

REPO_ROOT = Path(__file__).resolve().parents[2]


class ExportError(Exception):
    """A failure that should stop the script with a readable message."""


# ---------------------------------------------------------------------------
# torch.fx on Python 3.11


def _proxy_iter_by_offset(self):
    """fx.Proxy.__iter__ that finds the calling instruction by its offset (Python >= 3.11)."""
    frame = inspect.currentframe().f_back
    for inst in dis.get_instructions(frame.f_code):
        if inst.offset == frame.f_lasti:
            if inst.opname == "UNPACK_SEQUENCE":
                return (self[i] for i in range(inst.argval))
            break
    return self.tracer.iter(self)


def patch_fx_for_python311():
    source = inspect.getsource(fx.proxy.Proxy.__iter__)
    if sys.version_info >= (3, 11) and "f_lasti // 2" in source:
        fx.proxy.Proxy.__iter__ = _proxy_iter_by_offset
        return True
    return False


# ---------------------------------------------------------------------------
# Model construction


def model_spec(name, opset):
    base = MODELS.get(name, {})
    family = FAMILY_OF.get(name, name)
    size = IMAGE_SIZE.get(name, 224)
    return {
        "family": family,
        "nodes": base.get("nodes", []),
        "final_node": base.get("final_node"),
        "cases": base.get("cases", [(1, 1)]),
        "image_shape": [3, size, size],
        "grad": family in GRAD_FAMILIES,
        "build_kwargs": BUILD_KWARGS.get(name, {}),
        "opset": opset,
    }


def build_model(name, spec):
    """Seeded random-init torchvision model, prepared so that mistakes can't hide."""
    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        raise ExportError(f"unknown torchvision model '{name}'")
    torch.manual_seed(0)
    model = builder(weights=None, **spec["build_kwargs"])
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


def grad_mode(spec):
    """nn.MultiheadAttention's fused no-grad path neither exports nor matches: keep grad on."""
    return torch.enable_grad() if spec["grad"] else torch.no_grad()


# ---------------------------------------------------------------------------
# ONNX export


def export_onnx(model, spec, path):
    x = torch.randn(1, *spec["image_shape"])
    with grad_mode(spec), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, x, str(path),
            opset_version=spec["opset"],
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            do_constant_folding=True,
        )
    onnx.checker.check_model(str(path))


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
# torchvision's graph


class _ValueTypes(fx.Interpreter):
    """Runs a traced graph, noting which nodes produce a tensor."""

    def __init__(self, module):
        super().__init__(module)
        self.tensor_nodes = set()

    def run_node(self, n):
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            self.tensor_nodes.add(n)
        return result


def analyse_eval_graph(model, spec, x, logits):
    """torchvision's eval node names and, per name, what an ONNX export keeps of it."""
    tracer = tv_fx.NodePathTracer(**tv_fx._set_default_tracer_kwargs(None))
    graph = tracer.trace(model.eval())
    names = dict(tracer.node_to_qualname)  # fx node -> torchvision name
    modules = dict(model.named_modules())

    depends_on_input = {}
    for node in graph.nodes:
        depends_on_input[node] = node.op == "placeholder" or any(depends_on_input[a] for a in node.all_input_nodes)

    kinds, fused = {}, []
    for node, name in names.items():
        if node.op == "placeholder":
            kind = "placeholder"
        elif node.op == "get_attr":
            kind = "parameter"
        elif not depends_on_input[node]:
            kind = "constant"
        elif node.op == "call_module":
            kind = type(modules[node.target]).__name__
        else:
            kind = "function"
        kinds[name] = kind
        users = list(node.users)
        if (node.op == "call_module" and isinstance(modules[node.target], torch.nn.Conv2d) and len(users) == 1
                and users[0].op == "call_module"
                and isinstance(modules[users[0].target], torch.nn.modules.batchnorm._BatchNorm)):
            fused += [name, names[users[0]]]

    interpreter = _ValueTypes(fx.GraphModule(model, graph))
    with grad_mode(spec):
        out = interpreter.run(x)
    diff = float((out - logits).abs().max())
    if out.shape != logits.shape or diff > 1e-5:
        raise ExportError(f"the traced graph's output differs from model(x) by {diff}")
    non_tensor = [name for node, name in names.items() if node not in interpreter.tensor_nodes]
    return list(names.values()), kinds, fused, non_tensor


def sample_nodes(eval_nodes, kinds, fused, non_tensor):
    """10 names the way torchvision's test draws them, among those an ONNX export keeps."""
    dropped = set(fused) | set(non_tensor)
    candidates = [n for n in eval_nodes
                  if not any(word in n for word in TORCHVISION_TEST_EXCLUDES)
                  and kinds[n] not in NO_ONNX_NODE and n not in dropped
                  and re.sub(r"_\d+$", "", n.split(".")[-1]) not in NO_ONNX_NODE_METHODS]
    picked = random.Random(SAMPLE_SEED).sample(candidates, min(SAMPLE_SIZE, len(candidates)))
    order = {n: i for i, n in enumerate(eval_nodes)}
    return sorted(picked, key=order.get)


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


def no_functional_inplace(graph_module):
    """F.relu(x, inplace=True) in a traced graph overwrites the value of the node before it."""
    for graph in (graph_module.train_graph, graph_module.eval_graph):
        for node in graph.nodes:
            if node.kwargs.get("inplace") is True:
                node.kwargs = {**node.kwargs, "inplace": False}
    graph_module.recompile()
    return graph_module


def extract_features(model, spec, queries, graph_nodes, x):
    features = {}
    with grad_mode(spec):
        for group in extraction_groups(queries, graph_nodes):
            extractor = no_functional_inplace(create_feature_extractor(model, return_nodes=group))
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


def stamp_text(spec):
    key = {"version": REFERENCE_VERSION, "spec": spec, "torch": torch.__version__,
           "torchvision": torchvision.__version__, "onnx": onnx.__version__}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def is_up_to_date(out_dir, name, spec):
    stamp = out_dir / f"{name}.stamp"
    ref_path = out_dir / f"{name}.ref.json"
    if not (stamp.is_file() and ref_path.is_file() and (out_dir / f"{name}.onnx").is_file()):
        return False
    if stamp.read_text().strip() != stamp_text(spec):
        return False
    try:
        ref = json.loads(ref_path.read_text())
        return all((out_dir / f).is_file() for f in listed_files(ref))
    except (ValueError, KeyError, TypeError):
        return False


# ---------------------------------------------------------------------------
# Per-model driver


def run_case(model, name, spec, queries, graph_nodes, index, x, logits, out_dir):
    features = extract_features(model, spec, queries, graph_nodes, x)
    if spec["final_node"]:
        final = features[spec["final_node"]]
        diff = float((final - logits).abs().max())
        if final.shape != logits.shape or diff > 1e-5:
            raise ExportError(f"{name}: feature '{spec['final_node']}' differs from model(x) by {diff}")

    prefix = f"{name}.case{index}"
    return {
        "input": {"name": INPUT_NAME, **write_tensor(out_dir, f"{prefix}.input.f32", x)},
        "features": {
            node: write_tensor(out_dir, f"{prefix}.{file_stem(node)}.f32", features[node])
            for node in queries
        },
        "logits": write_tensor(out_dir, f"{prefix}.logits.f32", logits),
    }


def export_model(name, spec, out_dir):
    model = build_model(name, spec)
    onnx_path = out_dir / f"{name}.onnx"
    export_onnx(model, spec, onnx_path)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_nodes, eval_nodes = get_graph_node_names(model, suppress_diff_warning=True)
    model.eval()
    cases, notes, sampled = [], [], []
    for index, (seed, batch) in enumerate(spec["cases"]):
        torch.manual_seed(seed)
        x = torch.randn(batch, *spec["image_shape"])
        with grad_mode(spec):
            logits = model(x).detach()
        queries = list(spec["nodes"])
        if index == 0:
            traced, kinds, fused, non_tensor = analyse_eval_graph(model, spec, x, logits)
            if traced != eval_nodes:
                raise ExportError(f"{name}: NodePathTracer names differ from get_graph_node_names")
            sampled = sample_nodes(eval_nodes, kinds, fused, non_tensor)
            queries += [n for n in sampled if n not in queries]
            notes.append(check_with_onnx_reference(onnx_path, x, logits))
        cases.append(run_case(model, name, spec, queries, eval_nodes, index, x, logits, out_dir))

    ref = {"model": name, "family": spec["family"], "opset": spec["opset"], "reference": "torchvision",
           "build_kwargs": spec["build_kwargs"], "grad_enabled": spec["grad"],
           "train_nodes": train_nodes, "eval_nodes": eval_nodes, "node_kinds": kinds,
           "bn_fused_nodes": fused, "non_tensor_nodes": non_tensor, "sampled_nodes": sampled,
           "cases": cases}
    (out_dir / f"{name}.ref.json").write_text(json.dumps(ref, indent=1) + "\n")
    # Written last: an interrupted run leaves no stamp and is redone next time.
    (out_dir / f"{name}.stamp").write_text(stamp_text(spec) + "\n")
    return notes


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: <repo>/.cache/models, or .../opset<N>)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, choices=[13, 17])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--models", help="comma-separated model names (default: resnet18,mobilenet_v2)")
    group.add_argument("--family-smallest", action="store_true",
                       help="one small model per family (the CI set)")
    group.add_argument("--families", help="comma-separated families: every model of each")
    group.add_argument("--all", action="store_true", help="the whole classification zoo")
    group.add_argument("--list", action="store_true", help="print families and models, then exit")
    parser.add_argument("--force", action="store_true", help="re-export even when up to date")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = REPO_ROOT / ".cache" / "models"
        if args.opset != DEFAULT_OPSET:
            args.out = args.out / f"opset{args.opset}"
    known = list(dict.fromkeys(list(MODELS) + list(FAMILY_OF)))
    if args.family_smallest:
        args.models = [models[0] for models in ZOO.values()] + CI_EXTRA
    elif args.families:
        families = [f.strip() for f in args.families.split(",") if f.strip()]
        unknown = [f for f in families if f not in ZOO]
        if unknown:
            parser.error(f"unknown families {', '.join(unknown)}; known: {', '.join(ZOO)}")
        args.models = [m for f in families for m in ZOO[f]]
    elif args.all:
        args.models = known
    else:
        args.models = [m.strip() for m in (args.models or "resnet18,mobilenet_v2").split(",") if m.strip()]
    unknown = [m for m in args.models if m not in known]
    if unknown:
        parser.error(f"unknown models {', '.join(unknown)}; add them to ZOO (known: {', '.join(known)})")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for family, models in ZOO.items():
            print(f"{family}: {', '.join(models)}")
        return 0
    torch.set_num_threads(1)  # leave the other core free
    patch_fx_for_python311()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.models:
        spec = model_spec(name, args.opset)
        if not args.force and is_up_to_date(args.out, name, spec):
            print(f"{name}: up to date")
            continue
        start = time.monotonic()
        try:
            notes = export_model(name, spec, args.out)
        except Exception as exc:  # go on with the other models, fail at the end
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name}: exported to {args.out} in {time.monotonic() - start:.1f}s ({'; '.join(notes)})", flush=True)
    if failed:
        raise ExportError(f"{len(failed)} model(s) failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # any failure: one clear line, non-zero exit
        print(f"export_models.py: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
