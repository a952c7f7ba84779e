#!/usr/bin/env python3
"""Interoperability check of a TAXII 2.1 server with the OASIS client (taxii2-client 2.3.0)
and validator (stix2-validator 3.3.2).

Usage:
    taxii_client_check.py URL CREDENTIAL [options]

URL is the server's base (http://127.0.0.1:8000) or its discovery URL (.../taxii2/).
CREDENTIAL is `user:password` (HTTP Basic), a token (sent as `Authorization: Bearer`),
or `-` to read either from the environment variable TAXII_CREDENTIAL (keeps a token
out of the process list).

What it does, in order, with the OASIS client only (`taxii2client.v21`):
  1. discovers the server, reads every API root's information and lists its collections;
  2. picks the collection (--collection, else the first readable and writable one),
     which must be empty;
  3. adds every object of the bundles (by default the ATT&CK and MISP-converted bundles
     of testdata/) in envelopes of --batch objects, and follows each status resource
     until it is complete: every valid object must be a success (with its version),
     every object stix2-validator rejects must be a failure with a message;
  4. pages through the objects (latest versions, then all versions) and the manifests
     with `as_pages` and a small --per-request, reads every object by id and its
     versions, re-reads every status, tries the match[type] and match[id] filters;
  5. validates every object served with stix2-validator.

What the server holds is modelled from what was sent: a version is (id, modified),
else (id, created); an object with neither (an SCO) has the one version the server
gives it. Posting a version already stored stores nothing new: the first copy stays.
Any difference (an object missing, extra or changed after JSON normalisation, a wrong
version list, a status that does not account for what was sent, an invalid object
served) is reported, and the exit code is 1. Exit code 2 means the check could not
run (bad arguments, unreachable server).
"""

import argparse
import collections
import concurrent.futures
import gzip
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import requests
from taxii2client.v21 import Server, as_pages

REPO = Path(__file__).resolve().parent.parent.parent
CACHE_DIR = Path(os.environ.get("PASSERELLE_REFERENCE_CACHE", REPO / "target" / "reference-cache"))
DEFAULT_FILES = sorted(str(p) for p in (REPO / "testdata" / "attack").glob("*.json.gz")) + sorted(
    str(p) for p in (REPO / "testdata" / "misp-events").glob("**/*.json.gz")
)
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
# Change when reference_errors changes what it returns.
VERDICT_CACHE_VERSION = b"interop-verdicts-1\0"
TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer TOKEN` (taxii2client's own TokenAuth sends `Token TOKEN`)."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer " + self.token
        return request


class Report:
    """Collects problems (which fail the run) and notes (which do not)."""

    def __init__(self, max_shown):
        self.problems = collections.defaultdict(list)
        self.notes = []
        self.max_shown = max_shown

    def problem(self, kind, message):
        self.problems[kind].append(message)

    def note(self, message):
        self.notes.append(message)
        print("   note: " + message, flush=True)

    def count(self):
        return sum(len(v) for v in self.problems.values())

    def print_summary(self):
        if self.notes:
            print("{} note(s) above (not failures)".format(len(self.notes)))
        if not self.problems:
            print("OK: everything served matches what was sent")
            return
        print("FAILED: {} difference(s)".format(self.count()))
        for kind, messages in self.problems.items():
            print("  {} ({}):".format(kind, len(messages)))
            for message in messages[: self.max_shown]:
                print("    - " + message)
            if len(messages) > self.max_shown:
                print("    ... and {} more".format(len(messages) - self.max_shown))


STARTED = time.monotonic()


def step(title):
    print("== [{:6.1f}s] {}".format(time.monotonic() - STARTED, title), flush=True)


def normalise(obj):
    """The JSON text two equal objects share whatever their key order and spacing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def version_key(text):
    """A STIX/TAXII timestamp as text whose order is time order (nanoseconds), or None."""
    if not isinstance(text, str):
        return None
    m = TIMESTAMP.match(text)
    if not m:
        return None
    return "{}.{}Z".format(m.group(1), (m.group(2) or "").ljust(9, "0"))


def object_version(obj):
    """The version the server must give the object, or None when the server picks it (no
    modified, no created: the version is its date_added)."""
    return version_key(obj.get("modified", obj.get("created")))


def load_objects(path):
    """The objects of a bundle, envelope, array or lone object, and the file's bytes."""
    raw = Path(path).read_bytes()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    data = json.loads(raw.decode("utf-8"))
    if isinstance(data, dict) and isinstance(data.get("objects"), list):
        return data["objects"], raw
    if isinstance(data, list):
        return data, raw
    return [data], raw


def file_verdicts(objects, raw, jobs):
    """stix2-validator's errors for each object of one file, cached in target/reference-cache
    (keyed by the file, VERDICT_CACHE_VERSION and the validator version: validation is slow)."""
    import stix2validator

    h = hashlib.sha256()
    h.update(VERDICT_CACHE_VERSION)
    h.update(stix2validator.__version__.encode() + b"\0")
    h.update(raw)
    cached = CACHE_DIR / ("interop-" + h.hexdigest() + ".json")
    try:
        verdicts = json.loads(cached.read_text(encoding="utf-8"))
        if len(verdicts) == len(objects):
            return verdicts
    except (OSError, ValueError):
        pass
    verdicts = validate_all(objects, jobs)
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp{}".format(os.getpid()))
        tmp.write_text(json.dumps(verdicts), encoding="utf-8")
        os.replace(tmp, cached)
    except OSError:
        pass  # no cache is only slower
    return verdicts


def reference_errors(obj):
    """stix2-validator's errors for one object (empty when it is valid)."""
    from stix2validator import ValidationOptions, validate_instance

    try:
        result = validate_instance(obj, ValidationOptions(version="2.1"))
    except Exception as ex:  # the validator raises on some malformed input
        return ["stix2-validator raised {}: {}".format(type(ex).__name__, ex)]
    return [str(e) for e in (result.errors or [])]


def validate_all(objects, jobs):
    """stix2-validator's errors for each object, in order; in parallel, since it is slow."""
    if jobs <= 1 or len(objects) < 200:
        return [reference_errors(o) for o in objects]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(reference_errors, objects, chunksize=64))


class Expected:
    """What the collection must hold, built from what was sent."""

    def __init__(self):
        # id -> {version key: normalised object}, first copy of a version wins
        self.versions = collections.defaultdict(dict)
        # id -> normalised object, for objects whose version the server assigns
        self.unversioned = {}
        self.types = {}
        self.conflicting_copies = 0

    def add(self, obj):
        """Records an accepted object; returns True when it is a new version."""
        oid = obj["id"]
        self.types[oid] = obj["type"]
        norm = normalise(obj)
        v = object_version(obj)
        if v is None:
            if oid in self.unversioned:
                return False
            self.unversioned[oid] = norm
            return True
        versions = self.versions[oid]
        if v in versions:
            if versions[v] != norm:
                self.conflicting_copies += 1
            return False
        versions[v] = norm
        return True

    def ids(self):
        return set(self.versions) | set(self.unversioned)

    def latest(self, oid):
        if oid in self.unversioned:
            return self.unversioned[oid]
        versions = self.versions[oid]
        return versions[max(versions)]

    def version_count(self):
        return sum(len(v) for v in self.versions.values()) + len(self.unversioned)


def http_error_text(ex):
    """A short description of a failed request, with the server's error resource."""
    response = getattr(ex, "response", None)
    if response is None:
        return "{}: {}".format(type(ex).__name__, ex)
    body = response.text[:500]
    return "HTTP {} for {} {}: {}".format(response.status_code, response.request.method, response.url, body)


def follow_status(status, timeout):
    """Refreshes a status resource until it is complete; returns its last raw form."""
    deadline = time.monotonic() + timeout
    interval = 0.02
    while status.status != "complete" and time.monotonic() < deadline:
        time.sleep(interval)  # the status resource is the condition we wait on
        interval = min(interval * 2, 0.5)
        status.refresh()
    return status._raw


def check_status(report, raw, batch, expect, batch_name, lenient_duplicates):
    """Checks that a complete status accounts for every object of the batch.

    `expect` maps each object index to "new", "duplicate" or "invalid"."""
    if raw.get("status") != "complete":
        report.problem("status", "{}: status {} still {!r} after the timeout".format(batch_name, raw.get("id"), raw.get("status")))
        return
    if raw.get("total_count") != len(batch):
        report.problem("status", "{}: total_count {} but {} objects were sent".format(batch_name, raw.get("total_count"), len(batch)))
    if raw.get("pending_count", 0) != 0 or raw.get("pendings"):
        report.problem("status", "{}: pendings in a complete status".format(batch_name))
    successes = collections.defaultdict(list)
    for entry in raw.get("successes") or []:
        successes[entry.get("id")].append(entry)
    failures = collections.defaultdict(list)
    for entry in raw.get("failures") or []:
        failures[entry.get("id")].append(entry)
    if raw.get("success_count") and not raw.get("successes"):
        report.problem("status", "{}: success_count {} but no successes listed".format(batch_name, raw.get("success_count")))
    sent_ids = {o["id"] for o in batch}
    for oid in (set(successes) | set(failures)) - sent_ids:
        report.problem("status", "{}: status names {} which was not sent".format(batch_name, oid))
    for index, obj in enumerate(batch):
        oid = obj["id"]
        kind = expect[index]
        ok, failed = successes.get(oid), failures.get(oid)
        if ok and failed:
            report.problem("status", "{}: {} is both a success and a failure".format(batch_name, oid))
            continue
        if kind == "invalid":
            if ok:
                report.problem("accepted invalid", "{}: {} was accepted, but stix2-validator rejects it".format(batch_name, oid))
            elif not failed:
                report.problem("status", "{}: invalid object {} is neither a success nor a failure".format(batch_name, oid))
            elif not (failed[0].get("message") or "").strip():
                report.problem("status", "{}: failure of {} has no message".format(batch_name, oid))
            continue
        if failed:
            if kind == "duplicate" and lenient_duplicates:
                continue
            what = "version already stored" if kind == "duplicate" else "object"
            report.problem("rejected", "{}: {} {} rejected: {}".format(batch_name, what, oid, failed[0].get("message")))
            continue
        if not ok:
            report.problem("status", "{}: {} is missing from the status".format(batch_name, oid))
            continue
        want = object_version(obj)
        got = version_key(ok[0].get("version"))
        if want is not None and got != want:
            report.problem("status", "{}: success of {} has version {!r}, sent {!r}".format(batch_name, oid, ok[0].get("version"), obj.get("modified", obj.get("created"))))


def envelopes(objects, batch_size, max_bytes):
    """Splits objects into envelopes of at most batch_size objects and max_bytes bytes."""
    batch, size = [], 20
    for obj in objects:
        length = len(json.dumps(obj, ensure_ascii=False).encode("utf-8")) + 1
        if batch and (len(batch) >= batch_size or size + length > max_bytes):
            yield batch
            batch, size = [], 20
        batch.append(obj)
        size += length
    if batch:
        yield batch


def pages(report, func, per_request, what, **filters):
    """Every record of a paged endpoint, with the page count; the whole list even when a
    page fails (the failure is reported)."""
    records, count = [], 0
    key = None
    try:
        for envelope in as_pages(func, per_request=per_request, **filters):
            count += 1
            if key is None:
                key = "versions" if "versions" in envelope else "objects"
            records.extend(envelope.get(key) or [])
            if envelope.get("more") and not envelope.get("next"):
                report.problem("paging", "{}: page {} says more but has no next".format(what, count))
                break
    except Exception as ex:
        report.problem("http", "{}: page {}: {}".format(what, count + 1, http_error_text(ex)))
    return records, count


def compare_objects(report, served, expected_by_key, what, key_of):
    """Compares served objects with the expected ones, by key (see key_of)."""
    seen = set()
    for obj in served:
        if not isinstance(obj, dict) or "id" not in obj:
            report.problem("extra", "{}: served something that is not an object: {!r}".format(what, obj)[:300])
            continue
        key = key_of(obj)
        if key in seen:
            report.problem("duplicate", "{}: {} served twice".format(what, key))
            continue
        seen.add(key)
        want = expected_by_key.get(key)
        if want is None:
            report.problem("extra", "{}: {} served but not sent (or not this version)".format(what, key))
        elif normalise(obj) != want:
            report.problem("changed", "{}: {} differs from what was sent: {}".format(what, key, first_difference(want, normalise(obj))))
    for key in sorted(set(expected_by_key) - seen, key=str):
        report.problem("missing", "{}: {} was sent but not served".format(what, key))


def first_difference(want, got):
    """Where two normalised texts first differ, with a little context."""
    i = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    return "at character {}: sent ...{!r}... served ...{!r}...".format(i, want[max(0, i - 40) : i + 40], got[max(0, i - 40) : i + 40])


def latest_key(obj):
    return obj["id"]


def version_key_of(expected):
    def key(obj):
        if obj["id"] in expected.unversioned:
            return (obj["id"], None)
        return (obj["id"], object_version(obj))

    return key


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("url")
    parser.add_argument("credential")
    parser.add_argument("--collection", help="collection id or title (default: the first readable and writable one)")
    parser.add_argument("--batch", type=int, default=500, help="objects per envelope (default 500)")
    parser.add_argument("--per-request", type=int, default=97, help="objects per page when paging (default 97)")
    parser.add_argument("--file", action="append", dest="files", help="bundle to send (repeatable; default: testdata ATT&CK and MISP bundles)")
    parser.add_argument("--per-object", type=int, default=-1, help="how many ids to read one by one (object, its versions); default all, -1")
    parser.add_argument("--skip-invalid", action="store_true", help="do not send objects stix2-validator rejects (for servers that do not validate)")
    parser.add_argument("--lenient-duplicates", action="store_true", help="accept a failure for a version already stored (medallion reports one)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a status to complete")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for stix2-validator")
    parser.add_argument("--ca-cert", help="CA certificate to verify HTTPS with")
    parser.add_argument("--show", type=int, default=20, help="differences shown per kind")
    parser.add_argument("--discover-only", action="store_true", help="stop after discovery and the collection lists (a quick check of credentials)")
    parser.add_argument("--verify-only", action="store_true", help="send nothing: check that the collection holds what sending the files would have stored (a check of the checker: served objects are not validated again)")
    args = parser.parse_args()

    credential = os.environ.get("TAXII_CREDENTIAL", "") if args.credential == "-" else args.credential
    if not credential:
        print("error: no credential (TAXII_CREDENTIAL is empty)", file=sys.stderr)
        return 2
    if ":" in credential:
        user, password = credential.split(":", 1)
        auth = requests.auth.HTTPBasicAuth(user, password)
    else:
        auth = BearerAuth(credential)
    verify = args.ca_cert if args.ca_cert else True
    url = args.url if args.url.rstrip("/").endswith("/taxii2") else args.url.rstrip("/") + "/taxii2/"
    files = args.files or DEFAULT_FILES
    report = Report(args.show)

    sent = []  # (file name, [objects])
    known_verdicts = {}  # normalised object -> stix2-validator's errors
    if not args.discover_only:
        step("reading {} file(s) and validating what will be sent with stix2-validator".format(len(files)))
    for path in ([] if args.discover_only else files):
        objects, raw = load_objects(path)
        sent.append((Path(path).name, objects))
        for obj, errors in zip(objects, file_verdicts(objects, raw, args.jobs)):
            known_verdicts[normalise(obj)] = errors
    invalid_norms = {norm for norm, errors in known_verdicts.items() if errors}
    print("   {} objects, {} rejected by stix2-validator".format(sum(len(o) for _, o in sent), len(invalid_norms)), flush=True)

    step("discovery " + url)
    try:
        server = Server(url, auth=auth, verify=verify)
        title = server.title
        api_roots = server.api_roots
    except Exception as ex:
        print("error: discovery failed: " + http_error_text(ex), file=sys.stderr)
        return 2
    print("   {!r}: {} API root(s), default {}".format(title, len(api_roots), server.default.url if server.default else None), flush=True)
    if not api_roots:
        report.problem("discovery", "no API roots")
        report.print_summary()
        return 1

    target = None
    for api_root in api_roots:
        try:
            versions = api_root.versions
            max_length = api_root.max_content_length
            colls = api_root.collections
        except Exception as ex:
            report.problem("http", "API root {}: {}".format(api_root.url, http_error_text(ex)))
            continue
        print("   API root {} ({!r}): versions {}, max_content_length {}, {} collection(s)".format(api_root.url, api_root.title, versions, max_length, len(colls)), flush=True)
        if TAXII_MEDIA_TYPE not in (versions or []):
            report.problem("discovery", "API root {} does not list {}".format(api_root.url, TAXII_MEDIA_TYPE))
        for c in colls:
            print("     collection {} {!r} read={} write={} media_types={}".format(c.id, c.title, c.can_read, c.can_write, c.media_types), flush=True)
            if target is None:
                if args.collection is not None:
                    if args.collection in (c.id, c.title):
                        target = (api_root, c)
                elif c.can_read and c.can_write:
                    target = (api_root, c)
    if args.discover_only:
        report.print_summary()
        return 1 if report.count() else 0
    if target is None:
        print("error: no {} collection".format(repr(args.collection) if args.collection else "readable and writable"), file=sys.stderr)
        return 2
    api_root, coll = target
    max_length = api_root.max_content_length or 10 * 1024 * 1024
    print("   using collection {} ({!r}) of {}".format(coll.id, coll.title, api_root.url), flush=True)
    try:
        first = coll.get_manifest(limit=1)
    except Exception as ex:
        print("error: reading the collection's manifest failed: " + http_error_text(ex), file=sys.stderr)
        return 2
    if first.get("objects") and not args.verify_only:
        print("error: collection {} is not empty; the check needs an empty collection".format(coll.id), file=sys.stderr)
        return 2

    if args.verify_only:
        step("modelling what sending the files stores (--verify-only: nothing is sent)")
    else:
        step("adding objects in envelopes of up to {} objects ({} bytes at most)".format(args.batch, max_length))
    expected = Expected()
    statuses = {}  # status id -> raw status when complete
    posted = 0
    rejected_invalid = 0
    for name, objects in sent:
        to_send = [o for o in objects if not (args.skip_invalid and normalise(o) in invalid_norms)]
        for number, batch in enumerate(envelopes(to_send, args.batch, max_length - 1024)):
            batch_name = "{} envelope {}".format(name, number + 1)
            expect = []
            for obj in batch:
                if normalise(obj) in invalid_norms:
                    expect.append("invalid")
                    rejected_invalid += 1
                else:
                    expect.append("new" if expected.add(obj) else "duplicate")
            if args.verify_only:
                continue
            try:
                status = coll.add_objects({"objects": batch}, wait_for_completion=False)
                raw = follow_status(status, args.timeout)
            except Exception as ex:
                report.problem("http", "{}: {}".format(batch_name, http_error_text(ex)))
                continue
            posted += len(batch)
            statuses[raw["id"]] = raw
            check_status(report, raw, batch, expect, batch_name, args.lenient_duplicates)
            if args.lenient_duplicates:
                dup_failures = sum(1 for k, o in zip(expect, batch) if k == "duplicate" and any(f.get("id") == o["id"] for f in raw.get("failures") or []))
                if dup_failures:
                    report.note("{}: {} version(s) already stored reported as failures".format(batch_name, dup_failures))
        if not args.verify_only:
            print("   {}: sent {} objects".format(name, len(to_send)), flush=True)
    print("   {} objects posted in {} envelopes; {} distinct ids, {} versions expected; {} invalid objects sent; {} versions sent twice with different content (first copy kept)".format(
        posted, len(statuses), len(expected.ids()), expected.version_count(), rejected_invalid, expected.conflicting_copies), flush=True)

    step("paging objects (latest versions), {} per request".format(args.per_request))
    latest, count = pages(report, coll.get_objects, args.per_request, "objects")
    print("   {} objects in {} pages".format(len(latest), count), flush=True)
    if count < 2 and expected.version_count() > args.per_request:
        report.problem("paging", "objects came in {} page(s) for limit {}".format(count, args.per_request))
    compare_objects(report, latest, {oid: expected.latest(oid) for oid in expected.ids()}, "objects (latest)", latest_key)

    step("paging objects, match[version]=all")
    everything, count = pages(report, coll.get_objects, args.per_request, "objects (all versions)", version="all")
    print("   {} object versions in {} pages".format(len(everything), count), flush=True)
    all_expected = {(oid, v): norm for oid, vs in expected.versions.items() for v, norm in vs.items()}
    all_expected.update({(oid, None): norm for oid, norm in expected.unversioned.items()})
    compare_objects(report, everything, all_expected, "objects (all versions)", version_key_of(expected))

    step("paging manifests (latest, then all versions)")
    manifest, count = pages(report, coll.get_manifest, args.per_request, "manifest")
    print("   {} manifest records in {} pages".format(len(manifest), count), flush=True)
    check_manifest(report, manifest, expected, latest_only=True)
    manifest_all, count = pages(report, coll.get_manifest, args.per_request, "manifest (all versions)", version="all")
    print("   {} manifest records in {} pages".format(len(manifest_all), count), flush=True)
    check_manifest(report, manifest_all, expected, latest_only=False)
    check_date_added_headers(report, coll, args.per_request)

    ids = sorted(expected.ids())
    if 0 <= args.per_object < len(ids):
        # Every id with several versions, then an even spread of the others.
        multi = [oid for oid in ids if len(expected.versions.get(oid, ())) > 1]
        rest = [oid for oid in ids if oid not in set(multi)]
        stride = max(1, len(rest) // max(1, args.per_object - len(multi)))
        ids = (multi + rest[::stride])[: max(args.per_object, len(multi))]
    step("reading {} object(s) by id, with their versions".format(len(ids)))
    for oid in ids:
        read_one(report, coll, oid, expected)

    step("filters: match[type], match[id]")
    check_filters(report, coll, expected, args.per_request)

    step("re-reading {} status resource(s)".format(len(statuses)))
    for sid, raw in statuses.items():
        try:
            again = api_root.get_status(sid)._raw
        except Exception as ex:
            report.problem("status", "status {}: {}".format(sid, http_error_text(ex)))
            continue
        if normalise(again) != normalise(raw):
            report.problem("status", "status {} changed after completion: {}".format(sid, first_difference(normalise(raw), normalise(again))))

    served = {} if args.verify_only else {normalise(o): o for o in everything if isinstance(o, dict)}
    # The verdict is a function of the JSON value: an object served exactly as sent has the
    # verdict its sent copy got; anything else is validated now.
    fresh = [o for norm, o in served.items() if norm not in known_verdicts]
    step("validating {} distinct served object(s) with stix2-validator ({} identical to what was sent and validated then)".format(len(served), len(served) - len(fresh)))
    verdicts = {norm: known_verdicts[norm] for norm in served if norm in known_verdicts}
    for obj, errors in zip(fresh, validate_all(fresh, args.jobs)):
        verdicts[normalise(obj)] = errors
    for norm, errors in verdicts.items():
        if errors:
            report.problem("invalid served", "{}: {}".format(served[norm].get("id"), "; ".join(errors)[:300]))

    step("done")
    report.print_summary()
    return 1 if report.count() else 0


def check_manifest(report, records, expected, latest_only):
    what = "manifest" if latest_only else "manifest (all versions)"
    seen = collections.Counter()
    previous = None
    for record in records:
        oid = record.get("id")
        for field in ("id", "date_added", "version", "media_type"):
            if field not in record:
                report.problem("manifest", "{}: record of {} has no {}".format(what, oid, field))
        if record.get("media_type") not in (None, STIX_MEDIA_TYPE):
            report.problem("manifest", "{}: {} has media_type {!r}".format(what, oid, record.get("media_type")))
        added = version_key(record.get("date_added"))
        if added is None:
            report.problem("manifest", "{}: {} has date_added {!r}".format(what, oid, record.get("date_added")))
        elif previous is not None and added < previous:
            report.problem("manifest", "{}: date_added goes back at {} ({} after {})".format(what, oid, record.get("date_added"), previous))
        previous = added or previous
        if oid in expected.unversioned:
            seen[(oid, None)] += 1
        else:
            seen[(oid, version_key(record.get("version")))] += 1
    if latest_only:
        want = {(oid, None) if oid in expected.unversioned else (oid, max(expected.versions[oid])) for oid in expected.ids()}
    else:
        want = {(oid, v) for oid, vs in expected.versions.items() for v in vs} | {(oid, None) for oid in expected.unversioned}
    for key, n in seen.items():
        if n > 1:
            report.problem("manifest", "{}: {} listed {} times".format(what, key, n))
        if key not in want:
            report.problem("manifest", "{}: {} listed but not expected".format(what, key))
    for key in sorted(want - set(seen), key=str):
        report.problem("manifest", "{}: {} missing".format(what, key))


def check_date_added_headers(report, coll, per_request):
    """X-TAXII-Date-Added-First/-Last of a manifest page are its first and last date_added.
    (taxii2-client does not expose headers: this one request goes through its session.)"""
    session = coll._conn.session
    response = session.get(coll.url + "manifest/", params={"limit": per_request}, headers={"Accept": TAXII_MEDIA_TYPE})
    if response.status_code != 200:
        report.problem("http", "manifest page for headers: HTTP {}".format(response.status_code))
        return
    records = response.json().get("objects") or []
    if not records:
        return
    for header, record in (("X-TAXII-Date-Added-First", records[0]), ("X-TAXII-Date-Added-Last", records[-1])):
        value = response.headers.get(header)
        if value is None:
            report.problem("headers", "manifest page has no {}".format(header))
        elif version_key(value) != version_key(record.get("date_added")):
            report.problem("headers", "{} is {} but the page's record has date_added {}".format(header, value, record.get("date_added")))


def read_one(report, coll, oid, expected):
    try:
        envelope = coll.get_object(oid)
    except Exception as ex:
        report.problem("http", "object {}: {}".format(oid, http_error_text(ex)))
        return
    objs = envelope.get("objects") or []
    if len(objs) != 1:
        report.problem("object by id", "{}: {} objects served, want the latest version only".format(oid, len(objs)))
    elif normalise(objs[0]) != expected.latest(oid):
        report.problem("object by id", "{}: not the latest version sent: {}".format(oid, first_difference(expected.latest(oid), normalise(objs[0]))))
    try:
        versions = coll.object_versions(oid).get("versions") or []
    except Exception as ex:
        report.problem("http", "versions of {}: {}".format(oid, http_error_text(ex)))
        return
    if oid in expected.unversioned:
        if len(versions) != 1:
            report.problem("versions", "{}: {} versions listed, want 1: {}".format(oid, len(versions), versions))
        return
    got = [version_key(v) for v in versions]
    want = sorted(expected.versions[oid])
    if sorted(got) != want or len(set(got)) != len(got):
        report.problem("versions", "{}: versions {} but sent {}".format(oid, versions, want))
    if len(want) > 1:
        try:
            all_versions = coll.get_object(oid, version="all").get("objects") or []
        except Exception as ex:
            report.problem("http", "object {} match[version]=all: {}".format(oid, http_error_text(ex)))
            return
        compare_objects(report, all_versions, {(oid, v): n for v, n in expected.versions[oid].items()}, "object {} (all versions)".format(oid), version_key_of(expected))


def check_filters(report, coll, expected, per_request):
    by_type = collections.Counter(expected.types[oid] for oid in expected.ids())
    for stix_type, _ in by_type.most_common(3):
        objs, _ = pages(report, coll.get_objects, per_request, "objects match[type]=" + stix_type, type=stix_type)
        want = {oid: expected.latest(oid) for oid in expected.ids() if expected.types[oid] == stix_type}
        compare_objects(report, objs, want, "objects match[type]=" + stix_type, latest_key)
    two = sorted(expected.ids())[:2]
    try:
        objs = coll.get_objects(id=two).get("objects") or []
    except Exception as ex:
        report.problem("http", "objects match[id]: {}".format(http_error_text(ex)))
        return
    compare_objects(report, objs, {oid: expected.latest(oid) for oid in two}, "objects match[id]=" + ",".join(two), latest_key)


if __name__ == "__main__":
    sys.exit(main())
