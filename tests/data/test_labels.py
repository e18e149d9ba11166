"""Label rules: PTB-XL statement groups (likelihood ignored) and the CPSC2018 vocabulary."""

from __future__ import annotations

import pandas as pd
import pytest

from ecgjepa_core.data import DatasetError
from ecgjepa_core.data.labels import (
    PTBXL_SUPERCLASSES, cpsc_multi_hot, parse_dx, parse_scp_codes, ptbxl_classes, ptbxl_multi_hot,
    read_scp_statements, single_label_targets,
)

from ._helpers import sample


@pytest.fixture(scope="module")
def statements() -> pd.DataFrame:
    return read_scp_statements(sample("ptbxl/scp_statements.csv"))


def test_likelihood_zero_still_counts_and_non_diagnostic_codes_do_not(statements):
    # IMI (diagnostic, MI) at likelihood 0; SR (rhythm) and LVOLT (form) are not diagnostic.
    labels = ptbxl_multi_hot([{"IMI": 0.0, "SR": 0.0, "LVOLT": 0.0}, {"NORM": 100.0}], statements, "superdiagnostic")
    assert list(labels.columns) == list(PTBXL_SUPERCLASSES)
    assert labels.to_dict("records") == [{"CD": 0, "HYP": 0, "MI": 1, "NORM": 0, "STTC": 0},
                                         {"CD": 0, "HYP": 0, "MI": 0, "NORM": 1, "STTC": 0}]


def test_subdiagnostic_form_and_rhythm_groups(statements):
    codes = [{"IMI": 50.0, "SR": 0.0, "LVOLT": 0.0}]
    assert ptbxl_multi_hot(codes, statements, "subdiagnostic").loc[0].pipe(lambda r: list(r[r == 1].index)) == ["IMI"]
    assert ptbxl_multi_hot(codes, statements, "rhythm").loc[0].pipe(lambda r: list(r[r == 1].index)) == ["SR"]
    assert ptbxl_multi_hot(codes, statements, "form").loc[0].pipe(lambda r: list(r[r == 1].index)) == ["LVOLT"]
    assert ptbxl_multi_hot(codes, statements, "all").loc[0].sum() == 3
    assert ptbxl_classes(statements, "all") == tuple(sorted(statements.index))
    with pytest.raises(ValueError, match="unknown PTB-XL task"):
        ptbxl_classes(statements, "superclass")


def test_parse_scp_codes_rejects_malformed_cells():
    assert parse_scp_codes("{'NORM': 100.0, 'SR': 0}", "x") == {"NORM": 100.0, "SR": 0}
    for bad in ("{'NORM': 100.0", "['NORM']", "{'NORM': 'high'}", "__import__('os')"):
        with pytest.raises(DatasetError, match="scp_codes"):
            parse_scp_codes(bad, "ptbxl_database.csv (ecg_id 7)")


def test_single_label_targets_keep_one_class_rows_only():
    multi_hot = pd.DataFrame([[0, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 1]], columns=["a", "b", "c"])
    targets = single_label_targets(multi_hot)
    assert targets.to_dict() == {0: 1, 3: 2}


def test_cpsc_multi_hot_and_dx_parsing():
    assert parse_dx(" 164889003, 59118001 ,") == ("164889003", "59118001")
    assert parse_dx("") == ()
    assert cpsc_multi_hot(("164889003", "59118001")).tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 1]
