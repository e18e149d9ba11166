"""ecgjepa_core: a faithful, tested re-implementation of ECG-JEPA (Kim 2024).

Modules: ``config`` (dataclasses and profiles), ``positional`` (sin-cos tables),
``attention`` (CroPA and its implementations), ``masking`` (time masks), ``model``
(encoder, predictor, objective, EMA), ``checkpoint`` (our format and the authors'),
``data`` (readers, preprocessing, cache, download), ``schedules`` (lr and EMA per iteration), ``precision`` (autocast per device),
``pretrain`` (training loop, resume, DDP), ``synthetic`` (deepfake-ecg generator).
"""

__version__ = "0.1.0"
