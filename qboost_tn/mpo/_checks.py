"""Checks for reading a compressed model back (:func:`qboost_tn.mpo.load_compressed`): a saved model is data
a user may have received from anyone, so both of its files are validated before anything is built from them.

* ``NAME.mpo.json`` (the MPO layer shapes) must be JSON of the form ``{"mpo_layers": {layer: config}}``; the
  cores and bias a config describes may hold at most :data:`MAX_PARAMS` numbers, counted before they are
  allocated, and each layer must have the sizes of the skeleton's layer it replaces.
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
        raise ModelFileError(f"{where}: layer {name[:80]!r} should be a mapping, got {type(config).__name__}")
    for key in _MODE_KEYS:
        if not _int_list(config.get(key)) or not config[key]:
            raise ModelFileError(f"{where}: layer {name[:80]!r}: {key} should be a non-empty list of positive "
                                 f"integers, got {str(config.get(key))[:80]}")
    ins, outs = config["in_modes"], config["out_modes"]
    bonds = config.get("max_bond")
    bonds = [bonds] * (len(ins) - 1) if isinstance(bonds, int) and not isinstance(bonds, bool) else bonds
    if len(ins) != len(outs) or not _int_list(bonds) or len(bonds) != len(ins) - 1:
        raise ModelFileError(f"{where}: layer {name[:80]!r}: {len(ins)} in-modes, {len(outs)} out-modes and max_bond "
                             f"{str(config.get('max_bond'))[:80]} do not describe one chain of cores")
    sizes = [config.get(key) for key in ("in_features", "out_features")]
    if not _int_list(sizes) or sizes[0] > math.prod(ins) or sizes[1] > math.prod(outs):
        raise ModelFileError(f"{where}: layer {name[:80]!r}: in_features and out_features should be positive integers "
                             "within the products of in_modes and out_modes")
    if not isinstance(config.get("bias", True), bool):
        raise ModelFileError(f"{where}: layer {name[:80]!r}: bias should be true or false")
    full = [1, *bonds, 1]
    bias = sizes[1] if config.get("bias", True) else 0  # nn.Linear's bias: out_features numbers
    return bias + sum(full[k] * a * b * full[k + 1] for k, (a, b) in enumerate(zip(ins, outs)))


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


def _check_skeleton(skeleton, layers: dict, where: Path) -> None:
    """Each saved layer replaces a skeleton layer of the same sizes (checked before any layer is built)."""
    for name, config in layers.items():
        try:
            target = skeleton.get_submodule(name)
        except AttributeError as exc:
            raise ModelFileError(f"{where}: the model has no layer {name[:80]!r} to hold the saved MPO layer") from exc
        expected = (getattr(target, "in_features", None), getattr(target, "out_features", None))
        if expected != (config["in_features"], config["out_features"]):
            raise ModelFileError(f"{where}: layer {name[:80]!r} is saved as {config['in_features']} -> "
                                 f"{config['out_features']} features; the model's layer is {expected[0]} -> "
                                 f"{expected[1]}")


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
    _check_skeleton(skeleton, config, config_path)
    try:
        model = restore_mpo_layers(skeleton, config)
    except QBoostTNError as exc:
        raise ModelFileError(f"{config_path}: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{config_path}: a saved layer shape cannot be rebuilt ({type(exc).__name__}: "
                             f"{exc})") from exc
    # float64 is the widest a state_dict of this model holds; a float32 skeleton may load a float64 save.
    expected = sum(8 * t.numel() for t in model.state_dict().values())
    _check_archive(path, expected)
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
