"""The benchmark's quick mode: both paths agree, and the JSON has every number (no timing assertions)."""

from __future__ import annotations

import json

import pytest
import torch

from ecgjepa_core import bench


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    bench.main(["--quick", "--bf16-check", "--json", str(path)])
    return json.loads(path.read_text())


def test_paths_compute_the_same_loss_and_representation(result):
    eq = result["configs"]["tiny"]["equality"]
    assert eq["fp32"]["loss_abs_diff"] <= bench.FP32_TOL
    assert eq["fp32"]["representation_max_abs_diff"] <= bench.FP32_TOL
    assert eq["bf16"]["loss_rel_diff"] <= bench.BF16_RTOL
    assert eq["bf16"]["representation_rel_diff"] <= bench.BF16_RTOL
    assert len(eq["reference_loss"]) == 2  # before and after one optimiser + EMA step


def test_json_has_every_number(result):
    machine = result["machine"]
    assert machine["fp32_matmul_peak_gflops"] > 0 and machine["bf16_matmul_peak_gflops"] > 0
    assert set(result["paths"]) == {"reference", "default"}
    assert result["paths"]["reference"] == {"attention": "reference", "precision": "fp32",
                                            "optimizer": "AdamW default (per-tensor loop)"}
    entry = result["configs"]["tiny"]
    for name in ("reference", "default"):
        batches = [t["batch"] for t in entry["training"][name]]
        assert batches == [2, entry["large_batch"]["measured"]]
        for t in entry["training"][name]:
            assert {"step_s", "samples_per_s", "peak_mib", "gflop_per_sample", "gflops_achieved",
                    "fraction_of_fp32_peak", "fraction_of_bf16_peak"} <= set(t)
        assert {"samples_per_s", "peak_mib", "gflops_achieved"} <= set(entry["features"][name])
    assert {"training_batch2", "features", "default_fraction_of_its_precision_peak"} <= set(entry["ratios"])
    # The reference path scores all key pairs densely, so it counts more matmul FLOPs per sample.
    assert entry["training"]["reference"][0]["gflop_per_sample"] > entry["training"]["default"][0]["gflop_per_sample"]


def test_table_names_both_paths(result):
    text = bench.table(result)
    assert "| tiny | train samples/s, batch 2 |" in text and "features samples/s" in text


def test_a_real_difference_fails_the_check(monkeypatch):
    """The equality check is not vacuous: a path that drops CroPA is caught."""
    real = bench.paths

    def broken(device, *args):
        p = real(device, *args)
        return {**p, "default": bench.BenchPath("default", "sdpa", "fp32", p["default"].optimizer)}

    monkeypatch.setattr(bench, "paths", broken)
    cfg = bench.QUICK_CONFIGS["tiny"].replace(cropa=False)
    monkeypatch.setattr(bench, "_model", _cropa_only_on_reference(bench._model))
    with pytest.raises(AssertionError):
        bench.check_equal(cfg, torch.device("cpu"), 2, bf16=False)


def _cropa_only_on_reference(build):
    def model(cfg, path, state=None):
        return build(cfg.replace(cropa=path.attention == "reference"), path, state)
    return model
    data = result["data"]
    assert data["records"] == 10 and data["ptbxl_dir"].endswith("data/sample/ptbxl")
    assert min(data["cache_build_records_per_s_1_workers"], data["loader_samples_per_s"]) > 0


def test_cpu_study_config_is_the_profiles_model_and_precision_can_be_chosen():
    from ecgjepa_core.study.profiles import cpu_study

    assert bench.CONFIGS["cpu-study"] == cpu_study().model
    cpu = torch.device("cpu")
    forced = bench.paths(cpu, "fp32", cpu_study().model.attention)["default"]
    assert (forced.precision, forced.attention) == ("fp32", cpu_study().model.attention)
    assert bench.paths(cpu, "bf16")["default"].precision == "bf16"
    assert bench.paths(cpu)["default"].precision == bench.fast_precision(cpu)
