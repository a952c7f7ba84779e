#!/usr/bin/env python3
"""Differential check of `stix::pattern::check` against stix2-validator.

Runs every pattern through the reference (the pattern checks stix2-validator
3.3.2 makes on an indicator: stix2-patterns' grammar and object checks plus
musts.py `patterns`) and through the Rust example `pattern_check`, and prints
each pattern where the verdicts (any error vs. none) differ.

Usage (from the workspace root):
    /work/venv-ref/bin/python crates/stix/examples/pattern_diff.py [FILE.jsonl ...]
With no files it reads every indicator `pattern` under /work/shared/data plus
pattern_cases.txt beside this script. `-v` prints every pattern with both outputs.
"""
import gzip, json, os, subprocess, sys

from stix2validator import ValidationOptions, validate_instance

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def data_patterns(root='/work/shared/data'):
    out = []
    def walk(o):
        if isinstance(o, dict):
            if (o.get('type') == 'indicator' and isinstance(o.get('pattern'), str)
                    and o.get('pattern_type', 'stix') == 'stix'):
                out.append(o['pattern'])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                if f.endswith('.json'):
                    walk(json.load(open(p)))
                elif f.endswith('.json.gz'):
                    walk(json.load(gzip.open(p)))
            except Exception:
                pass
    return out


def read_cases(path):
    out = []
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        out.append(json.loads(line) if line.startswith('"') else line)
    return out


OPTS = ValidationOptions(version='2.1')


def reference(p):
    ind = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
           "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
           "name": "n", "description": "d", "pattern": p, "pattern_type": "stix",
           "valid_from": "2020-01-01T00:00:00Z", "indicator_types": ["malicious-activity"]}
    try:
        r = validate_instance(ind, OPTS)
    except Exception as e:  # stix2-patterns crashes on some inputs: invalid
        return False, ['crash: ' + repr(e)]
    return r.is_valid, [str(e) for e in r.errors]


def main(argv):
    verbose = '-v' in argv
    files = [a for a in argv if a != '-v']
    patterns = []
    if files:
        for f in files:
            patterns += read_cases(f)
    else:
        patterns = sorted(set(data_patterns())) + read_cases(os.path.join(HERE, 'pattern_cases.txt'))
    subprocess.run(['cargo', 'build', '-q', '-p', 'stix', '--example', 'pattern_check'],
                   cwd=ROOT, check=True)
    target = os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target'))
    exe = os.path.join(target, 'debug', 'examples', 'pattern_check')
    res = subprocess.run([exe], input='\n'.join(json.dumps(p) for p in patterns) + '\n',
                         capture_output=True, text=True, check=True)
    ours = [json.loads(l) for l in res.stdout.splitlines()]
    differ = 0
    for p, o in zip(patterns, ours):
        ok, errs = reference(p)
        if ok != o['valid'] or verbose:
            if ok != o['valid']:
                differ += 1
            print(('DIFF ' if ok != o['valid'] else 'same ') + json.dumps(p))
            print('   ref: %s %s' % ('valid' if ok else 'invalid', ' | '.join(errs)[:300]))
            for sev, off, msg in o['problems']:
                print('   ours: %s at %d: %s' % (sev, off, msg))
    print('%d patterns, %d verdicts differ' % (len(patterns), differ))
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
