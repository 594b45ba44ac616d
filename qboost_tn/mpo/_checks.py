"""Checks for reading a compressed model back (:func:`qboost_tn.mpo.load_compressed`): a saved model is data
a user may have received from anyone, so both of its files are validated before anything is built from them.

* ``NAME.mpo.json`` (the compressed layers' shapes) must be JSON of the form ``{"mpo_layers": {layer: config}}``,
  each config of a known layer type, and together they may describe at most :data:`MAX_PARAMS` numbers,
  counted before they are allocated; bias included.
* ``NAME`` (the state_dict) must be a torch zip archive whose members declare no more bytes than the file
  holds (torch stores them uncompressed) and, together, no more than the rebuilt model's tensors take (at
  float64), read with ``torch.load(weights_only=True)`` only then.

Every problem - missing keys, wrong types, truncated or flipped bytes, tensors that do not fit the skeleton -
is one :class:`~qboost_tn.errors.ModelFileError` naming the file.
"""
from __future__ import annotations

import json
import math
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

from .._text import shown
from ..errors import ModelFileError

#: Most numbers the MPO cores of one saved model may hold (checked from the shapes, before allocating).
MAX_PARAMS = 1 << 28
_MODE_KEYS = ("in_modes", "out_modes")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error, struct.error,
               NotImplementedError, RuntimeError)


def _int_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _field(config, key, check, want):
    if not check(config.get(key)):
        raise ValueError(f"{key} should be {want}, got {shown(config.get(key))}")
    return config[key]


def _chain(ins, outs, bonds) -> int:
    """Numbers the cores of one MPO chain hold at most (bonds as given, before clipping)."""
    bonds = [bonds] * (len(ins) - 1) if _positive_int(bonds) else bonds
    if len(ins) != len(outs) or not _int_list(bonds) or len(bonds) != len(ins) - 1:
        raise ValueError(f"{len(ins)} in-modes, {len(outs)} out-modes and max_bond {shown(bonds)} do not "
                         "describe one chain of cores")
    full = [1, *bonds, 1]
    return sum(full[k] * a * b * full[k + 1] for k, (a, b) in enumerate(zip(ins, outs)))


def _modes(config):
    return [_field(config, key, lambda v: _int_list(v) and v, "a list of positive integers") for key in _MODE_KEYS]


def _pair(value, least) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) and v >= least
               for v in (value if isinstance(value, list) and len(value) == 2 else [value]))


def _kernel_entries(config) -> int:
    """Entries of a convolution's kernel, its geometry checked (rebuilt, a malformed one would fail only later,
    in the forward pass)."""
    kernel = _field(config, "kernel_size", lambda v: _pair(v, 1), "an int or two positive integers")
    for key in ("stride", "dilation"):
        _field(config, key, lambda v: _pair(v, 1), "an int or two positive integers")
    _field(config, "padding", lambda v: v in ("same", "valid") or _pair(v, 0),
           "'same', 'valid', an int or two integers >= 0")
    return kernel * kernel if isinstance(kernel, int) else kernel[0] * kernel[1]


def mpo_linear_size(config) -> int:
    """Numbers an ``MPOLinear.config()`` describes (cores and bias), or ValueError naming what is malformed."""
    ins, outs = _modes(config)
    return _chain(ins, outs, config.get("max_bond")) + math.prod(outs)


def mpo_conv_size(config) -> int:
    """Numbers an ``MPOConv2d.config()`` describes: channel sites then the kernel site ``(1, kh kw)``."""
    ins, outs = _modes(config)
    return _chain([*ins, _kernel_entries(config)], [*outs, 1], config.get("max_bond")) + math.prod(outs)


def tucker_conv_size(config) -> int:
    """Numbers a ``TuckerConv2d.config()`` describes (its three factors and bias)."""
    n_in, n_out = (_field(config, key, _positive_int, "a positive integer") for key in ("in_channels", "out_channels"))
    r_out, r_in = _field(config, "rank", lambda v: _int_list(v) and len(v) == 2, "two positive integers")
    r_out, r_in = min(r_out, n_out), min(r_in, n_in)
    return n_in * r_in + r_in * r_out * _kernel_entries(config) + r_out * n_out + n_out


def low_rank_size(config) -> int:
    """Numbers a ``LowRankLinear.config()`` describes (its two factors and bias)."""
    n_in, n_out, rank = (_field(config, key, _positive_int, "a positive integer")
                         for key in ("in_features", "out_features", "rank"))
    return rank * (n_in + n_out) + n_out


def read_layer_config(path, sizes, default_type) -> dict:
    """The ``{layer name: layer config}`` mapping saved at ``path`` (an ``.mpo.json``), checked.

    ``sizes`` maps each layer type a file may name (a config's ``"type"``; ``default_type`` where it names
    none, as files written before there were several types) to a function counting the numbers such a
    config describes, which raises ValueError for a malformed one. Each config comes back with its
    ``"type"`` filled in.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from exc
    layers = data.get("mpo_layers") if isinstance(data, dict) else None
    if not isinstance(layers, dict):
        raise ModelFileError(f"{path}: expected {{\"mpo_layers\": {{layer name: shape}}}}, got "
                             f"{type(data).__name__}{' without mpo_layers' if isinstance(data, dict) else ''}")
    total, checked = 0, {}
    for name, config in layers.items():
        if not isinstance(config, dict):
            raise ModelFileError(f"{path}: layer {shown(name)} should be a mapping, got {type(config).__name__}")
        kind = config.get("type", default_type)
        if not isinstance(kind, str) or kind not in sizes:
            raise ModelFileError(f"{path}: layer {shown(name)}: type should be one of {', '.join(sizes)}, got "
                                 f"{shown(kind)}")
        try:
            _field(config, "bias", lambda v: v is None or isinstance(v, bool), "true or false") if "bias" in config \
                else None
            total += sizes[kind](config)
        except ValueError as exc:
            raise ModelFileError(f"{path}: layer {shown(name)}: {exc}") from exc
        if total > MAX_PARAMS:
            raise ModelFileError(f"{path}: the MPO layers describe more than {MAX_PARAMS:,} numbers; the file "
                                 "is corrupt or tampered")
        checked[name] = {**config, "type": kind}
    return checked


def _check_archive(path: Path, expected_bytes: int) -> None:
    """The torch zip at ``path``: stored members, each and all together within the file, the tensors' data
    within ``expected_bytes`` (what the rebuilt model's state_dict takes at float64), checksums intact."""
    size = path.stat().st_size
    try:
        # is_zipfile raises, rather than answers False, for some damaged end records (multi-disk archives).
        if not zipfile.is_zipfile(path):
            raise ModelFileError(f"{path}: not a torch state_dict file (torch.save writes a zip archive), or "
                                 "truncated")
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            data = sum(info.file_size for info in members if "/data/" in info.filename)
            # Overlapping members could each fit the file and still add up to gigabytes.
            if sum(info.file_size for info in members) > size or data > expected_bytes:
                raise ModelFileError(f"{path}: its members declare {data:,} bytes of tensors (the model's take at "
                                     f"most {expected_bytes:,}) in a {size:,}-byte file; the file is corrupt or "
                                     "tampered")
            for info in members:
                # torch stores members uncompressed: one declaring more bytes than the file holds is tampered,
                # and torch's reader would allocate what it declares.
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                    raise ModelFileError(f"{path}: member {shown(info.filename)} declares {info.file_size:,} bytes in "
                                         f"a {size:,}-byte file; the file is corrupt or tampered")
            # torch does not check the members' CRC-32: a flipped bit would load as a silently different weight.
            damaged = archive.testzip()
    except ModelFileError:
        raise
    except _ZIP_ERRORS as exc:  # UnicodeDecodeError (a member's name) is a ValueError
        raise ModelFileError(f"{path}: damaged zip archive ({type(exc).__name__}: {exc})") from exc
    if damaged is not None:
        raise ModelFileError(f"{path}: member {shown(damaged)} fails its checksum; the file is damaged")


def read_state(path, expected_bytes: int) -> dict:
    """The state_dict saved at ``path``, checked: a zip archive true to its sizes and checksums whose tensors
    take at most ``expected_bytes``, read with ``torch.load(weights_only=True)``, holding named tensors only."""
    import torch

    path = Path(path)
    _check_archive(path, expected_bytes)
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile,
            zlib.error, struct.error, AttributeError, TypeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"{path}: damaged or not a saved state_dict ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise ModelFileError(f"{path}: holds {type(state).__name__}, not a state_dict of named tensors")
    return state


__all__ = ["MAX_PARAMS", "low_rank_size", "mpo_conv_size", "mpo_linear_size", "read_layer_config", "read_state",
           "tucker_conv_size"]
