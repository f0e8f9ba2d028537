#!/usr/bin/python3
"""Exports the big backbones of docs/benchmarks.md's "Big models" section with Debian's torch
(random, seeded weights; nothing is downloaded):

    /usr/bin/python3 bench/export_big_models.py [--models vit_l_16,vit_h_14]

vit_l_16 goes to .cache/models/vit_l_16.onnx through tests/tools/export_models.py (one 1.2 GB
file, with torchvision references); vit_h_14 (632 M parameters) to .cache/big/vit_h_14/, where
the exporter writes its 2.5 GB of float32 weights as ONNX external data beside a small model
(past protobuf's 2 GB), with the input and torchvision's `encoder.ln` features (torchvision
initializes the head to zeros, so the logits say nothing) as x.f32 / encoder_ln.f32.
Skips what exists."""
import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export_vit_h_14(out_dir):
    import torch
    import torchvision
    model_path = os.path.join(out_dir, "vit_h_14.onnx")
    if os.path.exists(os.path.join(out_dir, "encoder_ln.f32")):
        print(f"vit_h_14: up to date in {out_dir}")
        return
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    started = time.time()
    model = torchvision.models.vit_h_14().eval()
    x = torch.randn(1, 3, 224, 224)
    if not os.path.exists(model_path):
        torch.onnx.export(model, x, model_path, input_names=["x"], output_names=["logits"], opset_version=13)
    captured = {}
    model.encoder.ln.register_forward_hook(lambda module, inputs, output: captured.update(ln=output))
    with torch.no_grad():
        model(x)
    features = captured["ln"]
    x.numpy().astype("float32").tofile(os.path.join(out_dir, "x.f32"))
    features.numpy().astype("float32").tofile(os.path.join(out_dir, "encoder_ln.f32"))
    print(f"vit_h_14: exported to {out_dir} in {time.time() - started:.0f}s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="vit_l_16,vit_h_14")
    models = parser.parse_args().models.split(",")
    if "vit_l_16" in models:
        subprocess.run([sys.executable, os.path.join(REPO, "tests/tools/export_models.py"), "--models", "vit_l_16",
                        "--out", os.path.join(REPO, ".cache/models")], check=True)
    if "vit_h_14" in models:
        export_vit_h_14(os.path.join(REPO, ".cache/big/vit_h_14"))


if __name__ == "__main__":
    main()
