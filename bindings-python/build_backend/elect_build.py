"""The PEP 517 build backend of elect: maturin's, with ``protoc`` from a build requirement.

Building elect compiles the etcd client, whose build script runs ``protoc`` (through
prost-build, which reads ``PROTOC``) on etcd's .proto files. When ``PROTOC`` is not set, this
backend asks for grpcio-tools (Google's package, with wheels for every platform elect ships
wheels for, glibc and musl), which carries protoc and the well-known .proto files as a Python
module, and points ``PROTOC`` at a two-line script that runs that module with the build's own
interpreter. A source build then needs Rust and a C compiler, and no protoc. A ``PROTOC`` that
is already set is used as it is.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
from typing import Any, Iterator, List, Mapping, Optional

import maturin
from maturin import (  # noqa: F401 (re-exported: the hooks that need no protoc)
    build_sdist,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_wheel,
)

Settings = Optional[Mapping[str, Any]]

#: The build requirement that provides protoc (``python -m grpc_tools.protoc``).
PROTOC_REQUIREMENT = "grpcio-tools>=1.60"


def _needs_protoc() -> bool:
    return not os.environ.get("PROTOC")


@contextlib.contextmanager
def _protoc() -> Iterator[None]:
    """``PROTOC`` set to grpcio-tools' protoc for the duration of a build, unless set already."""
    if not _needs_protoc():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="elect-protoc-") as tmp:
        script = os.path.join(tmp, "protoc")
        with open(script, "w") as f:
            # grpc_tools.protoc run as a module adds the include path of the well-known types.
            f.write(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m grpc_tools.protoc "$@"\n')
        os.chmod(script, 0o755)
        os.environ["PROTOC"] = script
        try:
            yield
        finally:
            del os.environ["PROTOC"]


def get_requires_for_build_wheel(config_settings: Settings = None) -> List[str]:
    extra = [PROTOC_REQUIREMENT] if _needs_protoc() else []
    return list(maturin.get_requires_for_build_wheel(config_settings)) + extra


def get_requires_for_build_editable(config_settings: Settings = None) -> List[str]:
    return get_requires_for_build_wheel(config_settings)


def build_wheel(wheel_directory: str, config_settings: Settings = None, metadata_directory: Optional[str] = None) -> str:
    with _protoc():
        return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: Settings = None, metadata_directory: Optional[str] = None) -> str:
    with _protoc():
        return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))
