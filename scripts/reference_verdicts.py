#!/usr/bin/env python3
"""Per-object verdicts of the OASIS stix2-validator (3.3.2), the reference
`passerelle validate` is compared against.

Usage: reference_verdicts.py [--no-cache] [--jobs N] FILE...   (FILE: .json or .json.gz)

Prints one JSON line per STIX object, in file order:

    {"file": F, "kind": "object", "index": I, "id": ID, "valid": bool,
     "errors": [...], "warnings": [...]}

`index` is the object's position in the bundle's `objects` (0 for a lone object).
A bundle also gets a line of its own, before its objects, with `"kind": "bundle"`
and the errors of the bundle wrapper alone.

Why not just `validate_parsed_json(bundle)`: stix2-validator returns one result for a
whole bundle, with every object's errors merged. So each object is validated here
the way `validate_instance` validates a bundle's members (the same schema selection,
including the bundle's `spec_version`, then the same MUST/SHOULD checks), and the
union of those per-object results is checked against the validator's own whole-file
result: error messages must match exactly, or the script fails.

Options are stix2-validator's defaults with version 2.1 (what `stix2_validator
--version 2.1 FILE` does). Results are cached in <repo>/target/reference-cache/,
keyed by the file's content, this script and the validator version, because the
validator takes seconds per megabyte.
"""

import argparse
import collections
import concurrent.futures
import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

import stix2validator
from stix2validator import ValidationOptions, validate_parsed_json
from stix2validator.errors import pretty_error
from stix2validator.validator import (
    _get_musts,
    _get_shoulds,
    _is_stix_obj,
    _iter_errors_custom,
    _schema_validate,
)

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("PASSERELLE_REFERENCE_CACHE", REPO / "target" / "reference-cache"))


class Mismatch(Exception):
    """The per-object results do not add up to the validator's own result."""


def options():
    return ValidationOptions(version="2.1")


def object_result(obj, bundle_version):
    """Errors and warnings for one object, as `validate_instance` computes them for
    an object of a bundle whose spec_version is `bundle_version` (None outside one)."""
    opts = options()
    if not isinstance(obj, dict):
        return ["object is not a JSON object"], []
    if bundle_version is None and not _is_stix_obj(obj):
        # validate_parsed_json turns this into an invalid result for the object.
        return ["Input must be an object with 'id' and 'type' properties."], []
    if "type" not in obj:
        return ["Each object in bundle must have a 'type' property."], []
    error_gens = _schema_validate(obj, opts, bundle_version)
    errors = _iter_errors_custom(obj, _get_musts(opts), opts)
    warnings = [pretty_error(w, opts.verbose) for w in _iter_errors_custom(obj, _get_shoulds(opts), opts)]
    if "spec_version" in obj and obj["spec_version"] != opts.version:
        warnings.append(
            "{}: spec_version mismatch with supplied option. Treating as {} content.".format(
                obj.get("id"), opts.version
            )
        )
    error_gens.append((errors, ""))
    messages = [prefix + pretty_error(e, opts.verbose) for gen, prefix in error_gens for e in gen]
    return messages, warnings


def bundle_result(bundle):
    """Errors of the bundle wrapper alone (its own schema; objects checked separately)."""
    opts = options()
    error_gens = _schema_validate(bundle, opts)
    messages = [prefix + pretty_error(e, opts.verbose) for gen, prefix in error_gens for e in gen]
    warnings = []
    if "spec_version" in bundle and bundle["spec_version"] != opts.version:
        warnings.append(
            "{}: spec_version mismatch with supplied option. Treating as {} content.".format(
                bundle.get("id"), opts.version
            )
        )
    return messages, warnings


def whole_file_errors(data):
    """stix2-validator's own result for the parsed file, as a multiset of messages."""
    results = validate_parsed_json(data, options())
    if not isinstance(results, list):
        results = [results]
    valid = all(r.is_valid for r in results)
    messages = collections.Counter(str(e) for r in results for e in (r.errors or []))
    return valid, messages


def safe(fn, *args):
    try:
        return fn(*args)
    except Exception as ex:  # the validator raises on some malformed input
        return ["stix2-validator raised {}: {}".format(type(ex).__name__, ex)], []


def verdicts(raw):
    """The verdict lines (without "file") for the bytes of one file."""
    data = json.loads(raw.decode("utf-8"))
    lines = []

    def emit(kind, index, obj, result):
        errors, warnings = result
        obj_id = obj.get("id") if isinstance(obj, dict) else None
        lines.append(
            {"kind": kind, "index": index, "id": obj_id, "valid": not errors, "errors": errors, "warnings": warnings}
        )

    if isinstance(data, dict) and data.get("type") == "bundle" and "objects" in data:
        emit("bundle", None, data, safe(bundle_result, data))
        bundle_version = data.get("spec_version", "2.1")
        objects = data["objects"] if isinstance(data["objects"], list) else []
        for index, obj in enumerate(objects):
            emit("object", index, obj, safe(object_result, obj, bundle_version))
    elif isinstance(data, list):
        for index, obj in enumerate(data):
            emit("object", index, obj, safe(object_result, obj, None))
    else:
        emit("object", 0, data, safe(object_result, data, None))

    # The decomposition must agree with the validator's own whole-file answer.
    try:
        whole_valid, whole_messages = whole_file_errors(data)
    except Exception as ex:
        raise Mismatch("stix2-validator failed on the whole file: {}: {}".format(type(ex).__name__, ex))
    ours = collections.Counter(e for line in lines for e in line["errors"])
    ours_valid = all(line["valid"] for line in lines)
    if ours != whole_messages or ours_valid != whole_valid:
        missing = whole_messages - ours
        extra = ours - whole_messages
        raise Mismatch(
            "per-object results disagree with stix2-validator's whole-file result "
            "(whole valid={}, per-object valid={}); only in whole-file: {}; only per-object: {}".format(
                whole_valid, ours_valid, list(missing.elements())[:5], list(extra.elements())[:5]
            )
        )
    return lines


def read_bytes(path):
    raw = Path(path).read_bytes()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw


def cache_key(raw):
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(stix2validator.__version__.encode())
    h.update(b"\0")
    h.update(raw)
    return h.hexdigest()


def verdicts_cached(path, use_cache):
    """Returns the verdict lines of one file, from the cache when possible."""
    raw = read_bytes(path)
    cached = CACHE_DIR / (cache_key(raw) + ".jsonl")
    if use_cache and cached.is_file():
        return [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines()]
    lines = verdicts(raw)
    if use_cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp{}".format(os.getpid()))
        tmp.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        os.replace(tmp, cached)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="files validated in parallel")
    args = parser.parse_args()
    use_cache = not args.no_cache

    out = sys.stdout
    jobs = max(1, min(args.jobs, len(args.files)))
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(verdicts_cached, f, use_cache) for f in args.files]
        for path, future in zip(args.files, futures):
            try:
                lines = future.result()
            except (Mismatch, OSError, ValueError) as ex:
                print("reference_verdicts: {}: {}".format(path, ex), file=sys.stderr)
                return 2
            for line in lines:
                out.write(json.dumps(dict(file=path, **line)) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
