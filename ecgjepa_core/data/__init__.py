"""ECG data: one reader per dataset (``index()`` + ``read(record_id)``), labels and splits."""

from .arrays import ArraysReader
from .chapman_ningbo import ChapmanNingboReader
from .code15 import Code15Reader
from .cpsc2018 import Cpsc2018Reader
from .ludb import LudbReader
from .ptbxl import PtbxlReader
from .records import JEPA_8_LEADS, STANDARD_12_LEADS, DatasetError, Record, RecordError

__all__ = [
    "ArraysReader", "ChapmanNingboReader", "Code15Reader", "Cpsc2018Reader", "LudbReader", "PtbxlReader",
    "Record", "DatasetError", "RecordError", "STANDARD_12_LEADS", "JEPA_8_LEADS",
]
