"""ECG data: one reader per dataset (``index()`` + ``read(record_id)``), labels and splits."""

from ecgjepa_core.data.arrays import ArraysReader
from ecgjepa_core.data.chapman_ningbo import ChapmanNingboReader
from ecgjepa_core.data.code15 import Code15Reader
from ecgjepa_core.data.cpsc2018 import Cpsc2018Reader
from ecgjepa_core.data.ludb import LudbReader
from ecgjepa_core.data.ptbxl import PtbxlReader
from ecgjepa_core.data.records import JEPA_8_LEADS, STANDARD_12_LEADS, DatasetError, Record, RecordError

__all__ = [
    "ArraysReader", "ChapmanNingboReader", "Code15Reader", "Cpsc2018Reader", "LudbReader", "PtbxlReader",
    "Record", "DatasetError", "RecordError", "STANDARD_12_LEADS", "JEPA_8_LEADS",
]
