"""Where the warehouse's bytes live: a local directory (pathlib, the fast path) or an object store.

A root written as a URL (`s3://bucket/prefix`) becomes a `UPath` over an fsspec filesystem (s3fs):
the same `/`, `exists`, `glob`, `read_text` the layers already use on a `Path`, backed by the real S3
client. The endpoint is any S3-compatible service: `AWS_ENDPOINT_URL` (or the standard AWS config)
names it; credentials come from the environment, `~/.aws` or an instance role, through botocore's
own chain. Nothing here takes a credential as an argument or prints one.

What an object store cannot do is handled where it matters: no rename (partitions switch a pointer:
writer.py), no flock and no scratch space (staging and locks live in a local scratch directory,
`scratch_dir`, one per warehouse URL on this machine).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

SCHEMES = ("s3://", "s3a://")
SCRATCH_ENV = "TICKLAKE_SCRATCH"


def is_url(text: str | os.PathLike) -> bool:
    """Is this root an object-store URL (rather than a local path)?"""
    return isinstance(text, str) and text.startswith(SCHEMES)


def is_remote(path) -> bool:
    """Is `path` on an object store (a UPath that is not a local pathlib.Path)?"""
    return not isinstance(path, (str, Path)) and hasattr(path, "fs")


def storage_options() -> dict:
    """s3fs options from the environment: the endpoint of an S3-compatible service. Credentials are
    left to botocore (environment, ~/.aws, instance role). Listings are not cached: another process
    (a worker, a writer) may have switched a partition since this one last looked."""
    opts: dict = {"use_listings_cache": False}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        opts["client_kwargs"] = {"endpoint_url": endpoint}
    return opts


def open_root(url: str):
    """The warehouse at `url` as a UPath (its `.fs` is the s3fs filesystem, `.path` the key prefix)."""
    from upath import UPath

    return UPath(url.rstrip("/"), **storage_options())


def url_of(path) -> str:
    """`path` as a string the CLI and DuckDB accept (s3://bucket/key, or the local path)."""
    return str(path)


def _scratch_base() -> Path:
    return Path(os.environ.get(SCRATCH_ENV) or Path.home() / ".cache" / "ticklake" / "scratch")


def scratch_dir(root) -> Path:
    """Local working space of a warehouse: the root itself when local; for an object store
    `$TICKLAKE_SCRATCH` (or ~/.cache/ticklake/scratch) / <hash of the URL>: ingest staging, locks,
    temp files before upload, the Dagster home. Per machine: locks here are not cluster-wide."""
    if not is_remote(root):
        return root
    return _scratch_base() / hashlib.sha256(url_of(root).encode()).hexdigest()[:16]


def local_mirror(path) -> Path:
    """A local path standing for the remote `path` (its lock file, its temp files)."""
    if not is_remote(path):
        return path
    proto = path.fs.protocol
    proto = proto[0] if isinstance(proto, (tuple, list)) else proto
    return _scratch_base() / "mirror" / proto / path.path


def fs_path(path) -> tuple[object | None, str]:
    """(filesystem, path) for pyarrow calls: (None, local path) on the fast path."""
    return (None, str(path)) if not is_remote(path) else (path.fs, path.path)
