"""Checks for reading a compressed model back (:func:`qboost_tn.mpo.load_compressed`): a saved model is data
a user may have received from anyone, so both of its files are validated before anything is built from them.

* ``NAME.mpo.json`` (the MPO layer shapes) must be JSON of the form ``{"mpo_layers": {layer: config}}``, and
  the cores a config describes may hold at most :data:`MAX_PARAMS` numbers, counted before they are allocated.
* ``NAME`` (the state_dict) must be a torch zip archive whose members declare no more bytes than the file
  holds (torch stores them uncompressed), read with ``torch.load(weights_only=True)``.

Every problem - missing keys, wrong types, truncated or flipped bytes, tensors that do not fit the skeleton -
is one :class:`~qboost_tn.errors.ModelFileError` naming the file.
"""
from __future__ import annotations

import json
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

from ..errors import ModelFileError, QBoostTNError

#: Most numbers the MPO cores of one saved model may hold (checked from the shapes, before allocating).
MAX_PARAMS = 1 << 28
_MODE_KEYS = ("in_modes", "out_modes")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error, struct.error,
               NotImplementedError, RuntimeError)


def _int_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)


def _layer_size(name: str, config, where: Path) -> int:
    """Numbers the cores described by ``config`` hold at most (bonds as given, before clipping)."""
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: layer {name!r} should be a mapping, got {type(config).__name__}")
    for key in _MODE_KEYS:
        if not _int_list(config.get(key)) or not config[key]:
            raise ModelFileError(f"{where}: layer {name!r}: {key} should be a list of positive integers, got "
                                 f"{config.get(key)!r}")
    ins, outs = config["in_modes"], config["out_modes"]
    bonds = config.get("max_bond")
    bonds = [bonds] * (len(ins) - 1) if isinstance(bonds, int) and not isinstance(bonds, bool) else bonds
    if len(ins) != len(outs) or not _int_list(bonds) or len(bonds) != len(ins) - 1:
        raise ModelFileError(f"{where}: layer {name!r}: {len(ins)} in-modes, {len(outs)} out-modes and max_bond "
                             f"{config.get('max_bond')!r} do not describe one chain of cores")
    full = [1, *bonds, 1]
    return sum(full[k] * a * b * full[k + 1] for k, (a, b) in enumerate(zip(ins, outs)))


def read_layer_config(path) -> dict:
    """The ``{layer name: MPOLinear config}`` mapping saved at ``path`` (an ``.mpo.json``), checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from exc
    layers = data.get("mpo_layers") if isinstance(data, dict) else None
    if not isinstance(layers, dict):
        raise ModelFileError(f"{path}: expected {{\"mpo_layers\": {{layer name: shape}}}}, got "
                             f"{type(data).__name__}{' without mpo_layers' if isinstance(data, dict) else ''}")
    total = 0
    for name, config in layers.items():
        total += _layer_size(name, config, path)
        if total > MAX_PARAMS:
            raise ModelFileError(f"{path}: the MPO layers describe more than {MAX_PARAMS:,} numbers; the file "
                                 "is corrupt or tampered")
    return layers


def _check_archive(path: Path) -> None:
    size = path.stat().st_size
    try:
        # is_zipfile raises, rather than answers False, for some damaged end records (multi-disk archives).
        if not zipfile.is_zipfile(path):
            raise ModelFileError(f"{path}: not a torch state_dict file (torch.save writes a zip archive), or "
                                 "truncated")
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                # torch stores members uncompressed: one declaring more bytes than the file holds is tampered,
                # and torch's reader would allocate what it declares.
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                    raise ModelFileError(f"{path}: member {info.filename!r} declares {info.file_size:,} bytes in "
                                         f"a {size:,}-byte file; the file is corrupt or tampered")
            # torch does not check the members' CRC-32: a flipped bit would load as a silently different weight.
            damaged = archive.testzip()
    except ModelFileError:
        raise
    except _ZIP_ERRORS as exc:  # UnicodeDecodeError (a member's name) is a ValueError
        raise ModelFileError(f"{path}: damaged zip archive ({type(exc).__name__}: {exc})") from exc
    if damaged is not None:
        raise ModelFileError(f"{path}: member {damaged!r} fails its checksum; the file is damaged")


def load_checked(skeleton, path, config_path):
    """Rebuild a model saved by :func:`~qboost_tn.mpo.save_compressed` into ``skeleton``, checking both files.

    Raises
    ------
    ModelFileError
        If either file is malformed, truncated, oversized, or does not fit ``skeleton``.
    """
    import torch

    from .compress import restore_mpo_layers

    path, config_path = Path(path), Path(config_path)
    config = read_layer_config(config_path)
    try:
        model = restore_mpo_layers(skeleton, config)
    except QBoostTNError as exc:
        raise ModelFileError(f"{config_path}: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{config_path}: a saved layer shape cannot be rebuilt ({type(exc).__name__}: "
                             f"{exc})") from exc
    _check_archive(path)
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile,
            zlib.error, struct.error, AttributeError, TypeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"{path}: damaged or not a saved state_dict ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise ModelFileError(f"{path}: holds {type(state).__name__}, not a state_dict of named tensors")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # missing / unexpected keys, size mismatches
        raise ModelFileError(f"{path}: the saved tensors do not fit the model ({exc})") from exc
    return model


__all__ = ["MAX_PARAMS", "load_checked", "read_layer_config"]
